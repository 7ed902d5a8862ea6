// hnet frontier: test accuracy against whole-file bytes for one dense model,
// over a sweep of storage choices, drawn as an SVG (log x). Each point is a
// model trained by the pipeline as `hnet convert --retrain` would (the same
// flags for all), scored on the data's test split, and sized as written:
//   - hashing at each --ratios, with each --dtypes bucket storage and each --hashes
//     (per-element xxh32 and xxh32-block at --block Z, so the two compare at equal bytes);
//   - the per-layer budget search (budget.ts) at each --budget size;
//   - the equal-size dense nets: hidden widths × each --widths, in each --narrow-dtypes,
//     trained from scratch for the same epochs (HashedNets' "NN" baseline at equal memory);
//   - the dense model itself, as given and retrained like the others.
// A verb rather than a bench script: it answers a deployer's question about their own model
// ("how small can this get, and at what cost?"), with the CLI's data, preprocessing and
// training flags, and reuses convert's pipeline and size accounting unchanged.

import { DEFAULT_BLOCK, DEFAULT_MIN_VIRTUAL, stripModel, writeFileAtomic } from '@hnet/convert';
import { encode, formatBytes, MAX_BLOCK, normalizationEntry, type DType, type HashSpec, type Model } from '@hnet/format';
import type { DataSplits } from '@hnet/train';
import { parseFraction, parseInteger, UsageError, type ParsedArgs } from '../args.js';
import { blockFlagOf, hashAlgorithmOf } from '../flags/hashing.js';
import { allocationPolicy, SEARCH_BIAS_DTYPE, searchBudget, sensitivityTraining, TargetError, type SearchBase } from '../budget.js';
import { table, toJson } from '../common.js';
import { TRAINING_FLAGS, trainingFromArgs } from '../flags/training.js';
import { PREPROCESS_FLAGS, PREPROCESS_HELP } from '../flags/preprocessing.js';
import { DTYPES, STORAGE_FLAGS, storageFromArgs } from '../flags/storage.js';
import { narrowModel } from '../narrow.js';
import { fileSize, pipeline, readModel, type Training } from '../pipeline.js';
import { parseSize } from '../size.js';
import { plotSvg, type Series } from '../svg.js';
import type { Io, Verb } from '../verb.js';

export const verb: Verb = {
  usage: 'hnet frontier MODEL.onnx --data DATA -o FRONTIER.svg [options]',
  description: [
    'Trains a sweep of compressed versions of the model on DATA and plots test accuracy against',
    'whole-file bytes (log scale): hashing with float32/int8/int4 buckets at each ratio, per',
    'element (xxh32) and per block of --block columns (xxh32-block), the per-layer budget search',
    'at each --budget size, equal-size dense nets (narrower hidden layers, trained from scratch',
    'the same way) and the dense model, as given and retrained.',
    'Every point is trained with the same training flags as hnet convert --retrain and scored on',
    'the test split.',
    PREPROCESS_HELP,
  ].join('\n'),
  examples: [
    'hnet frontier fixtures/retrain/mlp.onnx --data /usr/share/datasets/fashion-mnist --preprocess pixel/255 --epochs 3 --budget 10.7KB -o mlp.svg',
    'hnet frontier fixtures/retrain/mlp.onnx --data /usr/share/datasets/fashion-mnist --preprocess pixel/255 --epochs 3 --hashes xxh32-block --block 16 --widths none -o block16.svg',
  ],
  positionals: [1, 1],
  flags: [
    { name: 'output', short: 'o', kind: 'string', value: 'FILE', help: 'the SVG to write (required)' },
    { name: 'data', kind: 'string', value: 'DATA', help: 'labelled data with a test split (an MNIST-layout folder, mnist) (required)' },
    { name: 'ratios', kind: 'string', value: 'LIST', help: 'hashing compressions (default 1/8,1/16,1/32,1/64,1/128)' },
    { name: 'dtypes', kind: 'string', value: 'LIST', help: 'bucket storage of the hashed runs (default float32,int8,int4)' },
    { name: 'hashes', kind: 'string', value: 'LIST', help: 'hash functions of the hashed runs: xxh32, xxh32-block, xxh32-aligned-block (default xxh32,xxh32-block)' },
    { name: 'block', kind: 'string', value: 'Z', help: `block-hashed runs: columns per hash, 1..${MAX_BLOCK} (aligned: a multiple of 4 up to 64; default ${DEFAULT_BLOCK})` },
    { name: 'budget', kind: 'list', value: 'SIZE', help: 'also a budget-search run for a file of at most SIZE (repeatable)' },
    { name: 'widths', kind: 'string', value: 'LIST', help: 'hidden-width factors of the equal-size dense nets (default 1/4,1/8,1/16,1/32,1/64; none: skip)' },
    { name: 'narrow-dtypes', kind: 'string', value: 'LIST', help: 'weight storage of the equal-size dense nets (default float32,int4)' },
    { name: 'min-virtual', kind: 'string', value: 'N', help: `hashed runs: layers with fewer virtual weights stay dense (default ${DEFAULT_MIN_VIRTUAL})` },
    { name: 'seed', kind: 'string', value: 'N', help: 'uint32 seed of the hashes and the training (default 0)' },
    { name: 'title', kind: 'string', value: 'TEXT', help: 'the plot title (default: the model file name)' },
    { name: 'json', kind: 'boolean', help: 'print the points as JSON' },
    ...STORAGE_FLAGS,
    ...PREPROCESS_FLAGS,
    ...TRAINING_FLAGS,
  ],
  run: frontier,
};

export interface FrontierPoint {
  family: 'hashed' | 'budget' | 'narrow' | 'dense';
  setting: string; // "1/16", "10.7 KiB", "width 1/8", "as given"
  dtype: DType | 'per layer';
  /** The hash of the hashed layers (budget points: the search's xxh32); null for the dense and equal-size dense nets. */
  hash: HashSpec['algorithm'] | null;
  block: number | null; // Z of xxh32-block or xxh32-aligned-block, else null
  bytes: number;
  accuracy: number; // test split, 0..1
}

/** The hashes of the default sweep: per element, and per block (xxh32-aligned-block stores as much and scores alike: --hashes adds it). */
const DEFAULT_HASHES: readonly HashSpec['algorithm'][] = ['xxh32', 'xxh32-block'];

function listOf<T>(args: ParsedArgs, flag: string, fallback: string, parse: (item: string) => T): T[] {
  const text = args.strings.get(flag) ?? fallback;
  if (text === 'none') return [];
  return text.split(',').map((item) => parse(item.trim()));
}

function dtypeOf(flag: string): (item: string) => DType {
  return (item) => {
    if (!DTYPES.includes(item as DType)) throw new UsageError(`--${flag} takes dtypes of ${DTYPES.join(', ')}, got "${item}"`);
    return item as DType;
  };
}

async function frontier(args: ParsedArgs, io: Io): Promise<void> {
  const input = args.positionals[0];
  const output = args.strings.get('output');
  if (!output) throw new UsageError('missing -o FILE.svg (the plot to write)');
  const data = args.strings.get('data');
  if (!data) throw new UsageError('missing --data DATA: the sweep trains and scores on it');
  const ratios = listOf(args, 'ratios', '1/8,1/16,1/32,1/64,1/128', (r) => parseFraction(r, 'ratios'));
  const dtypes = listOf(args, 'dtypes', 'float32,int8,int4', dtypeOf('dtypes'));
  const hashes = listOf(args, 'hashes', DEFAULT_HASHES.join(','), (item) => hashAlgorithmOf(item, 'hashes'));
  const block = blockFlagOf(args, hashes, 'hashes') ?? DEFAULT_BLOCK; // one Z for every block-hashed run, so that points compare
  const widths = listOf(args, 'widths', '1/4,1/8,1/16,1/32,1/64', (r) => parseFraction(r, 'widths'));
  const narrowDtypes = listOf(args, 'narrow-dtypes', 'float32,int4', dtypeOf('narrow-dtypes'));
  const budgets = (args.lists.get('budget') ?? []).map((s) => parseSize(s, 'budget'));
  const seed = parseInteger(args.strings.get('seed') ?? '0', 'seed', 0, 0xffffffff);
  const minVirtual = parseInteger(args.strings.get('min-virtual') ?? String(DEFAULT_MIN_VIRTUAL), 'min-virtual', 0, Number.MAX_SAFE_INTEGER);
  const base = trainingFromArgs(args, data);
  // Storage flags apply to every point: the dense dtypes to the hashed and budget runs, --strip to all.
  const storage = storageFromArgs(args);
  const log = base.options.quiet ? () => {} : io.err;

  const { decidePreprocessing, evaluate, loadData, sliceDataset } = await import('@hnet/train');
  const read = readModel(input, io);
  const loaded = loadData(data);
  if (!loaded.test) throw new UsageError(`${data} has no test split: the frontier scores every point on one (an MNIST-layout folder with t10k files, or mnist)`);
  const splits: DataSplits = base.limit !== null && base.limit < loaded.train.count
    ? { ...loaded, train: sliceDataset(loaded.train, 0, base.limit), source: `${loaded.source} (first ${base.limit})` } : loaded;
  const engine = { engine: base.options.engine, threads: base.options.threads, backend: base.options.backend };
  const { normalization } = await decidePreprocessing(read.model, splits.train, base.preprocessing, { judge: read.model, log: base.options.quiet ? undefined : io.err, engine });
  const dense: Model = { ...read.model, metadata: { ...read.model.metadata, ...normalizationEntry(normalization) } };
  // Every run: the same data, preprocessing and training flags; a point is kept even if training made it worse.
  const training = (init: 'project' | 'scratch'): Training => ({
    ...base, data: splits, limit: null, preprocessing: normalization, force: true, options: { ...base.options, seed, init },
  });
  const quiet: Io = { out: io.out, err: log };

  const points: FrontierPoint[] = [];
  const add = (p: FrontierPoint): void => {
    points.push(p);
    if (!args.booleans.has('json')) io.out(`${p.family.padEnd(7)} ${p.setting.padEnd(12)} ${p.dtype.padEnd(9)} ${hashText(p).padEnd(10)} ${formatBytes(p.bytes).padStart(10)}  ${(p.accuracy * 100).toFixed(2)}%`);
  };
  const started = performance.now();
  const denseAccuracy = (await evaluate(dense, splits.test!, { normalization, ...engine, quiet: true })).accuracy;
  add({ family: 'dense', setting: 'as given', dtype: 'float32', hash: null, block: null, bytes: encode(storage.strip ? stripModel(dense).model : dense).length, accuracy: denseAccuracy });
  const trained = async (model: Model, policy: Parameters<typeof pipeline>[1], init: 'project' | 'scratch'): Promise<{ bytes: number; accuracy: number }> => {
    const r = await pipeline(model, policy, training(init), quiet, { strip: storage.strip });
    return { bytes: r.bytes.length, accuracy: r.training!.summary.testAccuracy! };
  };
  // The dense model trained the same epochs as every other point: the fair baseline when the given model is undertrained.
  add({ family: 'dense', setting: 'retrained', dtype: 'float32', hash: null, block: null, ...(await trained(dense, { compression: 1 }, 'project')) });
  for (const ratio of ratios) {
    for (const dtype of dtypes) {
      // The hashes side by side: at one ratio and dtype they store the same number of buckets, so they meet at equal bytes.
      for (const hash of hashes) {
        const blockOf = hash === 'xxh32' ? null : block;
        const r = await trained(dense, { compression: ratio, seed, bucketDtype: dtype, minVirtual, ...storage.policy, hash, ...(blockOf === null ? {} : { block: blockOf }) }, 'project');
        add({ family: 'hashed', setting: fractionText(ratio), dtype, hash, block: blockOf, ...r });
      }
    }
  }
  const searchBase: SearchBase = { hash: 'xxh32', block: null, seed, signed: true, biasDtype: storage.policy.biasDtype ?? SEARCH_BIAS_DTYPE, denseDtype: storage.policy.denseDtype ?? null, strip: storage.strip };
  for (const size of budgets) {
    try {
      const search = await searchBudget({ dense, normalization, train: splits.train, base: searchBase, engine, training: sensitivityTraining(base.options), log }, { size });
      const r = await trained(dense, allocationPolicy(search.allocation, searchBase), 'project');
      add({ family: 'budget', setting: formatBytes(size), dtype: 'per layer', hash: 'xxh32', block: null, ...r });
    } catch (e) {
      // A size below what the search can make is a finding of the sweep, not the end of it.
      if (!(e instanceof TargetError)) throw e;
      io.err(`hnet frontier: no budget point at ${formatBytes(size)}: ${e.message}`);
    }
  }
  for (const width of widths) {
    for (const dtype of narrowDtypes) {
      const r = await trained(narrowModel(dense, width, dtype), { compression: 1 }, 'scratch');
      add({ family: 'narrow', setting: `width ${fractionText(width)}`, dtype, hash: null, block: null, ...r });
    }
  }

  const onnxBytes = fileSize(input);
  const svg = frontierSvg(points, denseAccuracy, onnxBytes, args.strings.get('title') ?? `${input.split('/').pop()}: test accuracy against file size`);
  writeFileAtomic(output, svg);
  if (args.booleans.has('json')) {
    io.out(toJson({ input, onnxBytes, data: splits.source, test: splits.test!.count, denseAccuracy, points }, 2));
    return;
  }
  io.out('');
  io.out(table(['family', 'setting', 'dtype', 'hash', 'bytes', 'smaller', 'accuracy', 'vs dense'], points.map((p) => [
    p.family, p.setting, p.dtype, hashText(p), String(p.bytes), onnxBytes > 0 ? `${(onnxBytes / p.bytes).toFixed(1)}×` : '', `${(p.accuracy * 100).toFixed(2)}%`,
    `${((p.accuracy - denseAccuracy) * 100 >= 0 ? '+' : '')}${((p.accuracy - denseAccuracy) * 100).toFixed(2)}`,
  ])));
  io.out(`wrote ${output}: ${points.length} points in ${((performance.now() - started) / 60000).toFixed(1)} min (smaller: against the ${formatBytes(onnxBytes)} ONNX file)`);
}

/** Points below the dense accuracy by more than this are left off the plot (the table lists them): they would flatten the rest. */
const PLOT_DEPTH = 12;

/** The plot of a sweep: one series per family, dtype and hash (colour: family and dtype; dashed with squares: block hashing), the dense accuracy and one point below it, the 100× and 40× sizes. */
export function frontierSvg(points: FrontierPoint[], denseAccuracy: number, onnxBytes: number, title: string): string {
  const dense = denseAccuracy * 100;
  return plotSvg({
    title,
    xLabel: 'whole .hnet file (bytes, log scale)',
    yLabel: 'test accuracy (%)',
    formatX: decimalBytes,
    series: seriesOf(points),
    references: [
      { y: dense, label: `dense model ${dense.toFixed(2)}%` }, { y: dense - 1, label: 'dense − 1 point' },
      ...points.filter((p) => p.family === 'dense' && p.setting === 'retrained').map((p) => ({ y: p.accuracy * 100, label: `dense retrained ${(p.accuracy * 100).toFixed(2)}%` })),
    ],
    verticals: onnxBytes > 0 ? [{ x: onnxBytes / 100, label: '100× smaller' }, { x: onnxBytes / 40, label: '40×' }] : [],
    yMin: Math.floor(dense - PLOT_DEPTH),
  });
}

/** Tick labels at 1, 2, 5 × 10^k bytes: "20 kB", "1 MB". */
const decimalBytes = (n: number): string => (n >= 1e6 ? `${n / 1e6} MB` : n >= 1e3 ? `${n / 1e3} kB` : `${n} B`);

/** "xxh32", "block Z=32", or "-" for a net without hashed layers: the table's hash column. */
const hashText = (p: FrontierPoint): string => (p.hash === null ? '-' : p.hash === 'xxh32-block' ? `block Z=${p.block}` : p.hash === 'xxh32-aligned-block' ? `aligned Z=${p.block}` : p.hash);

const fractionText = (v: number): string => (1 / v === Math.round(1 / v) ? `1/${Math.round(1 / v)}` : String(v));

const COLORS: Record<string, string> = {
  'hashed float32': '#08519c', 'hashed float16': '#2171b5', 'hashed int8': '#4292c6', 'hashed int4': '#9ecae1',
  'narrow float32': '#a63603', 'narrow float16': '#d94801', 'narrow int8': '#f16913', 'narrow int4': '#fdae6b',
  'budget per layer': '#238b45', 'dense float32': '#000000',
};
const NAMES: Record<FrontierPoint['family'], string> = {
  hashed: 'hashed', budget: 'budget search (per layer)', narrow: 'equal-size dense', dense: 'dense model',
};

function seriesOf(points: FrontierPoint[]): Series[] {
  const groups = new Map<string, FrontierPoint[]>();
  for (const p of points) {
    const key = `${p.family} ${p.dtype} ${hashText(p)}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()].map((group) => ({
    name: group[0].family === 'dense' ? NAMES.dense : group[0].family === 'budget' ? NAMES.budget
      : group[0].family === 'hashed' ? `${NAMES.hashed} ${group[0].hash === 'xxh32' ? 'per element' : hashText(group[0])}, ${group[0].dtype}` : `${NAMES[group[0].family]}, ${group[0].dtype}`,
    color: COLORS[`${group[0].family} ${group[0].dtype}`] ?? '#777777',
    line: group[0].family === 'hashed' || group[0].family === 'narrow',
    dashed: group[0].hash === 'xxh32-block' || group[0].hash === 'xxh32-aligned-block',
    points: group.map((p) => ({ x: p.bytes, y: p.accuracy * 100 })),
  }));
}
