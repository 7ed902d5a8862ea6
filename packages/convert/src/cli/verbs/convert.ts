// hnet convert: dense ONNX (or .hnet) → .hnet, optionally hashed.

import { encode, type DType, type Model } from '@hnet/format';
import { writeFileAtomic } from '../../files.js';
import { DEFAULT_MIN_VIRTUAL, hashModel, type HashPolicy, type HashReport } from '../../hashing.js';
import { importOnnx, type ImportReport } from '../../onnx/import.js';
import { parseFraction, parseInteger, UsageError, type ParsedArgs } from '../args.js';
import { formatBytes, formatCount, loadHnet, requireOutput, table, toJson } from '../common.js';
import type { Io, Verb } from '../verb.js';

/**
 * Steps that run after hashing and before writing, in registration order.
 * The extension point for `convert --retrain DATA`: push a FlagSpec onto
 * convertVerb.flags and add a hook that reads its flag from `args`.
 */
export type ConvertHook = (
  model: Model,
  ctx: { args: ParsedArgs; io: Io; report: HashReport; /** the model before hashing */ dense: Model },
) => Promise<Model> | Model;
const hooks: ConvertHook[] = [];
export function addConvertHook(hook: ConvertHook): void {
  hooks.push(hook);
}

const DTYPES: DType[] = ['float32', 'float16', 'int8'];

/** A HashPolicy from the command line. */
export function policyFromArgs(args: ParsedArgs): HashPolicy {
  const hash = args.strings.get('hash') ?? 'xxh32';
  if (hash !== 'xxh32') throw new UsageError(`--hash must be xxh32 (the only hash of format 1.0), got "${hash}"`);
  const dtype = (args.strings.get('bucket-dtype') ?? 'float32') as DType;
  if (!DTYPES.includes(dtype)) throw new UsageError(`--bucket-dtype must be one of ${DTYPES.join(', ')}, got "${dtype}"`);
  const buckets: Record<string, number> = {};
  for (const item of args.lists.get('buckets') ?? []) {
    const eq = item.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--buckets takes NAME=K, got "${item}"`);
    buckets[item.slice(0, eq)] = parseInteger(item.slice(eq + 1), 'buckets', 1, 0xffffffff);
  }
  return {
    compression: parseFraction(args.strings.get('compression') ?? '1', 'compression'),
    buckets,
    dense: args.lists.get('dense') ?? [],
    seed: parseInteger(args.strings.get('seed') ?? '0', 'seed', 0, 0xffffffff),
    hashBias: args.booleans.has('hash-bias'),
    minVirtual: parseInteger(args.strings.get('min-virtual') ?? String(DEFAULT_MIN_VIRTUAL), 'min-virtual', 0, Number.MAX_SAFE_INTEGER),
    bucketDtype: dtype,
    signed: !args.booleans.has('no-sign'),
  };
}

export const convertVerb: Verb = {
  name: 'convert',
  summary: 'dense ONNX model → .hnet, hashing its layers (--compression)',
  usage: 'hnet convert MODEL.onnx -o MODEL.hnet [options]',
  description: [
    'Imports the ONNX model (BatchNormalization and bias Adds are folded into the layer',
    'before them) and hashes every Dense/Conv2D weight with at least --min-virtual values:',
    'K = ceil(virtual × compression) buckets, each the least-squares fit of the dense',
    'weights that share it. Smaller layers and biases stay dense. --compression 1 (the',
    'default) hashes nothing: an exact import. The input may also be a .hnet file.',
  ].join('\n'),
  examples: [
    'hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/8 --seed 42',
    'hnet convert lenet.onnx -o lenet.hnet --compression 1/16 --dense /fc3/Gemm --buckets /fc1/Gemm=2000',
  ],
  positionals: [1, 1],
  flags: [
    { name: 'output', short: 'o', kind: 'string', value: 'FILE', help: 'the .hnet file to write (required)' },
    { name: 'compression', short: 'c', kind: 'string', value: 'FRACTION', help: 'real / virtual weights per hashed layer: 1/8, 0.125, 12.5% (default 1: no hashing)' },
    { name: 'buckets', kind: 'list', value: 'NAME=K', help: 'hash layer NAME with exactly K buckets (repeatable)' },
    { name: 'dense', kind: 'list', value: 'NAME', help: 'keep layer NAME dense (repeatable)' },
    { name: 'min-virtual', kind: 'string', value: 'N', help: `layers with fewer virtual weights stay dense (default ${DEFAULT_MIN_VIRTUAL})` },
    { name: 'hash', kind: 'string', value: 'ALGO', help: 'hash function: xxh32 (default and only)' },
    { name: 'seed', kind: 'string', value: 'N', help: 'uint32 seed; each layer derives its own bucket and sign seeds (default 0)' },
    { name: 'hash-bias', kind: 'boolean', help: 'also hash the biases of hashed layers' },
    { name: 'no-sign', kind: 'boolean', help: 'no sign hash (every ξ = +1)' },
    { name: 'bucket-dtype', kind: 'string', value: 'TYPE', help: 'bucket storage: float32 (default), float16, int8' },
    { name: 'json', kind: 'boolean', help: 'print the report as JSON' },
  ],
  async run(args, io) {
    const input = args.positionals[0];
    const output = requireOutput(args, 'hnet convert model.onnx -o model.hnet');
    const policy = policyFromArgs(args);
    let imported: ImportReport | null = null;
    let model: Model;
    if (input.toLowerCase().endsWith('.hnet')) {
      model = loadHnet(input).model;
    } else {
      const r = importOnnx(input);
      model = r.model;
      imported = r.report;
    }
    const dense = model;
    const hashed = hashModel(model, policy);
    model = hashed.model;
    for (const hook of hooks) model = await hook(model, { args, io, report: hashed.report, dense });
    const bytes = encode(model);
    writeFileAtomic(output, bytes);

    const denseBytes = hashed.report.virtual * 4;
    if (args.booleans.has('json')) {
      io.out(toJson({ input, output, bytes: bytes.length, denseFloat32Bytes: denseBytes, import: imported, policy, ...hashed.report }, 2));
      return;
    }
    if (imported) {
      io.out(`imported ${input}: ${imported.producer || 'unknown producer'}, opset ${imported.opset}, ${imported.onnxNodes} ONNX nodes → ${imported.hnetNodes} hnet nodes`);
      for (const f of imported.folded) io.out(`  ${f}`);
    }
    io.out(table(
      ['layer', 'part', 'shape', 'virtual', 'real', 'dtype', 'rel. error'],
      hashed.report.weights.map((w) => [
        w.layer, w.part, `[${w.shape.join('×')}]`, formatCount(w.virtual),
        w.hashed ? `${formatCount(w.real)} buckets` : `${formatCount(w.real)} dense`, w.dtype, w.relError.toFixed(4),
      ]),
    ));
    const { virtual, real } = hashed.report;
    io.out(`parameters: ${formatCount(virtual)} virtual, ${formatCount(real)} stored (${(virtual / real).toFixed(2)}× fewer)`);
    io.out(`wrote ${output}: ${formatBytes(bytes.length)} (dense float32 weights: ${formatBytes(denseBytes)})`);
    if (hashed.report.weights.some((w) => w.hashed)) {
      io.out('rel. error = ‖V − W‖/‖W‖ of the hashed virtual weights without retraining.');
    }
  },
};
