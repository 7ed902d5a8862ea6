// hnet run: forward pass of a model on tensors from .npy or TensorProto .pb files.

import { ConvertError, decodeTensorProto, readFileChecked, writeFileAtomic } from '@hnet/convert';
import { formatShape as show, isIdentityNormalization, normalizeValues, readMetadata, readNormalization, readNpy, sizeOf, writeNpy, type Tensor, type TensorInfo } from '@hnet/format';
import { UsageError } from '../args.js';
import { modelBytes, openSession, toJson } from '../common.js';
import { ENGINE_FLAG, engineFromArgs, MODE_FLAG, modeFromArgs } from '../flags/engine.js';
import { normalizationFromArgs, PREPROCESS_FLAGS } from '../flags/preprocessing.js';
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

/** Binds --input files to the model's inputs (`declared`): by NAME=, by the name a .pb stores, else in order. */
function bindInputs(declared: TensorInfo[], items: string[]): Record<string, Tensor> {
  if (items.length === 0) throw new UsageError(`missing --input (the model takes ${declared.map((i) => `"${i.name}" ${show(i.shape)}`).join(', ')})`);
  const inputs: Record<string, Tensor> = {};
  const specs = namedPaths(items);
  specs.forEach((spec, i) => {
    const { tensor, name: stored } = readTensorFile(spec.path);
    const name = spec.name ?? (declared.some((m) => m.name === stored) ? stored : declared[i]?.name);
    if (!name) throw new UsageError(`more --input files (${items.length}) than model inputs (${declared.length})`);
    const info = declared.find((m) => m.name === name);
    if (!info) throw new UsageError(`the model has no input "${name}"; its inputs are ${declared.map((m) => `"${m.name}"`).join(', ')}`);
    inputs[name] = fitInput(tensor, info.shape, name, spec.path);
  });
  const missing = declared.filter((m) => !(m.name in inputs));
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

export const verb: Verb = {
  usage: 'hnet run MODEL.hnet --input X.npy [--output Y.npy] [--engine NAME] [--mode MODE]',
  description: [
    'Runs the forward pass. --input takes an .npy file (float32, or any numeric dtype,',
    'converted) or an ONNX TensorProto .pb; NAME=FILE binds a named input. A single',
    'sample without the batch dimension gets a batch of 1. Without --output, prints the',
    'outputs (argmax per row for 2-D outputs). MODEL may also be an .onnx file (imported, no hashing).',
    'The default engine is the WASM runtime; --engine reference runs the plain-TS oracle.',
    "The first input is raw data, preprocessed as the flags or the model's metadata",
    '(hnet.input.normalization) say; --preprocess none feeds it as it is.',
  ].join('\n'),
  examples: [
    'hnet run mnist.hnet --input fixtures/mnist_mlp.input.npy --output logits.npy',
    'hnet run mnist.hnet -i fixtures/mnist_mlp.input.npy --engine reference --json',
  ],
  positionals: [1, 1],
  flags: [
    { name: 'input', short: 'i', kind: 'list', value: '[NAME=]FILE', help: 'input tensor, .npy or .pb (repeatable, one per model input)' },
    { name: 'output', short: 'o', kind: 'list', value: '[NAME=]FILE', help: 'write an output as .npy (repeatable)' },
    ENGINE_FLAG,
    MODE_FLAG,
    ...PREPROCESS_FLAGS,
    { name: 'json', kind: 'boolean', help: 'print outputs as JSON {name: {shape, data}}' },
  ],
  async run(args, io) {
    const engine = engineFromArgs(args);
    const mode = modeFromArgs(args, engine);
    const file = args.positionals[0];
    const bytes = modelBytes(file);
    const session = await openSession(engine, file, bytes, mode);
    let outputs: Record<string, Tensor>;
    try {
      const inputs = bindInputs(session.info.inputs, args.lists.get('input') ?? []);
      const norm = normalizationFromArgs(args) ?? readNormalization(readMetadata(bytes));
      if (norm && !isIdentityNormalization(norm)) {
        const first = session.info.inputs[0].name;
        const raw = inputs[first];
        inputs[first] = { shape: raw.shape, data: normalizeValues(Float32Array.from(raw.data), sizeOf(raw.shape.slice(1)), norm) };
      }
      outputs = await session.run(inputs);
    } finally {
      session.dispose();
    }
    const declaredOutputs = session.info.outputs;

    const targets = namedPaths(args.lists.get('output') ?? []);
    targets.forEach((t, i) => {
      const name = t.name ?? declaredOutputs[i]?.name;
      if (!name || !(name in outputs)) throw new UsageError(`the model has no output ${t.name ? `"${t.name}"` : `number ${i + 1}`}; its outputs are ${declaredOutputs.map((m) => `"${m.name}"`).join(', ')}`);
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
