// hnet run: forward pass of a model on tensors from .npy or TensorProto .pb files.

import type { Model, Tensor } from '@hnet/format';
import { engineNames, getEngine } from '../../engine.js';
import { ConvertError } from '../../errors.js';
import { readFileChecked, writeFileAtomic } from '../../files.js';
import { readNpy, writeNpy } from '@hnet/format';
import { decodeTensorProto } from '../../onnx/tensors.js';
import { UsageError } from '../args.js';
import { loadAnyModel, toJson } from '../common.js';
import type { Verb } from '../verb.js';

/** A tensor from an .npy or .pb file, with the name stored in a .pb (if any). */
export function readTensorFile(file: string): { tensor: Tensor; name: string } {
  const bytes = readFileChecked(file, 'input tensor');
  if (file.toLowerCase().endsWith('.pb')) {
    const t = decodeTensorProto(bytes, file);
    return { tensor: { shape: t.dims, data: Float32Array.from(t.values) }, name: t.name };
  }
  return { tensor: readNpy(bytes, file), name: '' };
}

const show = (shape: readonly number[]): string => `[${shape.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`;

/** Checks a tensor against a model input; adds a batch dimension of 1 to a single sample. */
function fitInput(tensor: Tensor, expected: number[], inputName: string, file: string): Tensor {
  let t = tensor;
  if (t.shape.length === expected.length - 1) t = { shape: [1, ...t.shape], data: t.data };
  const fits = t.shape.length === expected.length && expected.every((d, i) => d < 0 || d === t.shape[i]);
  if (!fits) throw new ConvertError('bad-input', `${file}: shape ${show(tensor.shape)} does not fit model input "${inputName}" ${show(expected)}`);
  return t;
}

/** "name=path" or "path" pairs from a repeatable flag. */
function namedPaths(items: string[]): { name: string | null; path: string }[] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    return eq > 0 && !item.slice(0, eq).includes('/') ? { name: item.slice(0, eq), path: item.slice(eq + 1) } : { name: null, path: item };
  });
}

function bindInputs(model: Model, items: string[]): Record<string, Tensor> {
  if (items.length === 0) throw new UsageError(`missing --input (the model takes ${model.inputs.map((i) => `"${i.name}" ${show(i.shape)}`).join(', ')})`);
  const inputs: Record<string, Tensor> = {};
  const specs = namedPaths(items);
  specs.forEach((spec, i) => {
    const { tensor, name: stored } = readTensorFile(spec.path);
    let name = spec.name ?? (model.inputs.some((m) => m.name === stored) ? stored : model.inputs[i]?.name);
    if (!name) throw new UsageError(`more --input files (${items.length}) than model inputs (${model.inputs.length})`);
    const info = model.inputs.find((m) => m.name === name);
    if (!info) throw new UsageError(`the model has no input "${name}"; its inputs are ${model.inputs.map((m) => `"${m.name}"`).join(', ')}`);
    inputs[name] = fitInput(tensor, info.shape, name, spec.path);
  });
  const missing = model.inputs.filter((m) => !(m.name in inputs));
  if (missing.length) throw new UsageError(`no --input for ${missing.map((m) => `"${m.name}" ${show(m.shape)}`).join(', ')}`);
  return inputs;
}

function summarize(name: string, t: Tensor): string[] {
  const lines = [`${name} ${show(t.shape)}`];
  if (t.shape.length === 2) {
    const [rows, cols] = t.shape;
    for (let r = 0; r < Math.min(rows, 10); r++) {
      const row = t.data.subarray(r * cols, (r + 1) * cols);
      let arg = 0;
      row.forEach((v, j) => { if (v > row[arg]) arg = j; });
      const values = [...row.subarray(0, 10)].map((v) => v.toPrecision(4)).join(' ');
      lines.push(`  [${r}] argmax ${arg}  ${values}${cols > 10 ? ' …' : ''}`);
    }
    if (rows > 10) lines.push(`  … ${rows - 10} more rows`);
  } else {
    lines.push(`  ${[...t.data.subarray(0, 16)].map((v) => v.toPrecision(4)).join(' ')}${t.data.length > 16 ? ' …' : ''}`);
  }
  return lines;
}

export const runVerb: Verb = {
  name: 'run',
  summary: 'run a model on .npy / TensorProto .pb inputs',
  usage: 'hnet run MODEL.hnet --input X.npy [--output Y.npy] [--engine NAME]',
  description: [
    'Runs the forward pass. --input takes an .npy file (float32, or any numeric dtype,',
    'converted) or an ONNX TensorProto .pb; NAME=FILE binds a named input. A single',
    'sample without the batch dimension gets a batch of 1. Without --output, prints the',
    'outputs (argmax per row for 2-D outputs). MODEL may also be an .onnx file (imported, no hashing).',
  ].join('\n'),
  examples: ['hnet run mnist.hnet --input fixtures/mnist_mlp.input.npy --output logits.npy'],
  positionals: [1, 1],
  flags: [
    { name: 'input', short: 'i', kind: 'list', value: '[NAME=]FILE', help: 'input tensor, .npy or .pb (repeatable, one per model input)' },
    { name: 'output', short: 'o', kind: 'list', value: '[NAME=]FILE', help: 'write an output as .npy (repeatable)' },
    { name: 'engine', kind: 'string', value: 'NAME', help: 'engine: reference (default)' },
    { name: 'json', kind: 'boolean', help: 'print outputs as JSON {name: {shape, data}}' },
  ],
  async run(args, io) {
    const engineName = args.strings.get('engine') ?? 'reference';
    const engine = getEngine(engineName);
    if (!engine) throw new UsageError(`unknown --engine "${engineName}"; available: ${engineNames().join(', ')}`);
    const model = loadAnyModel(args.positionals[0]);
    const inputs = bindInputs(model, args.lists.get('input') ?? []);
    const outputs = await engine.run(model, inputs);

    const targets = namedPaths(args.lists.get('output') ?? []);
    targets.forEach((t, i) => {
      const name = t.name ?? model.outputs[i]?.name;
      if (!name || !(name in outputs)) throw new UsageError(`the model has no output ${t.name ? `"${t.name}"` : `number ${i + 1}`}; its outputs are ${model.outputs.map((m) => `"${m.name}"`).join(', ')}`);
      writeFileAtomic(t.path, writeNpy(outputs[name]));
      if (!args.booleans.has('json')) io.out(`wrote ${t.path}: ${name} ${show(outputs[name].shape)}`);
    });
    if (args.booleans.has('json')) {
      const json = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { shape: v.shape, data: [...v.data] }]));
      io.out(toJson({ engine: engine.name, outputs: json }));
    } else if (targets.length === 0) {
      for (const [name, t] of Object.entries(outputs)) io.out(summarize(name, t).join('\n'));
    }
  },
};
