// The per-layer budget search of `hnet convert --target-size` / `--max-drop`:
//   1. candidates: every Dense/Conv2D weight; those of at least SEARCH_MIN_VIRTUAL values may be
//      hashed, smaller ones only stored dense (their float32 bytes are fewer than a hash's overhead
//      buys back), as float32 or as int8 (a quarter of the bytes, for the drop its rounding costs);
//   2. sensitivity: each candidate hashed alone (the rest dense) at stored sizes from 1/8 of its
//      float32 bytes down by halves to MIN_OPTION_BYTES, as int8 and as int4 buckets, retrained
//      briefly (SENSITIVITY_EPOCHS on a slice of the training data, quantization-aware, with the
//      command's optimiser, rate and schedule: LeNet, trained with Adam, probed with the default
//      SGD at lr 0.1 lost 9-16 points to every choice, even int8 for its 150-weight conv1; probed
//      with the --optimizer adam --lr 0.002 it was retrained with, 0.35 for that and drops that
//      grow as K shrinks, docs/RESULTS.md) and scored
//      on a held-out slice: its drop in points against the dense model retrained the same way; the
//      same for the layer stored dense as int8;
//   3. allocation: the drops are taken as additive across layers, and the Pareto front of
//      (bytes, predicted drop) over every combination of choices (exact: merged one layer at a
//      time, dominated points dropped) gives the smallest drop within a size, or the smallest
//      size within a drop. Dense (float32, drop 0) is always one of a layer's choices, so a layer
//      stays dense where hashing costs more than it saves.
// Biases are stored as SEARCH_BIAS_DTYPE unless the command gives --bias-dtype; a --dense-dtype
// replaces the two dense choices by that one (measured); with --strip the sizes are the stripped
// file's and nothing is reserved for the training record.
// The verb then hashes and retrains the chosen model as any other and checks the target on the
// written file (the drop on the test split against the dense model's own accuracy).

import { hashModel, stripModel, type HashPolicy } from '@hnet/convert';
import { encode, formatBytes, sizeOf, storedBytes, weightsOf, type DType, type HashSpec, type Model, type Normalization } from '@hnet/format';
import type { Dataset, EngineName, TrainOptions } from '@hnet/train';
import { UsageError } from './args.js';

/** Weights with fewer virtual values stay dense: hashing 500 floats saves under 2 KiB and costs a layer's accuracy. */
export const SEARCH_MIN_VIRTUAL = 500;
/** The smallest bucket array tried (int4: 128 buckets). */
export const MIN_OPTION_BYTES = 64;
/** The bucket dtypes tried. float32 buckets are left out: at equal bytes int8 holds 4× the buckets, and with
 * quantization-aware retraining its rounding costs less than the buckets it buys (docs/RESULTS.md, the frontier). */
export const SEARCH_DTYPES: readonly DType[] = ['int8', 'int4'];
/** The storage tried for a weight kept dense, besides float32. */
export const SEARCH_DENSE_DTYPE: DType = 'int8';
/** Biases stored as int8 (trained quantization-aware): in a file of a few KiB their float32 bytes are a sixth of it. */
export const SEARCH_BIAS_DTYPE: DType = 'int8';
export const SENSITIVITY_EPOCHS = 1;
/** Training examples of each sensitivity run, and the held-out examples that score it (the end of the training data). */
export const SENSITIVITY_EXAMPLES = 6000;
export const HELD_OUT_EXAMPLES = 2000;
/** Bytes a hashed weight adds beyond its buckets: the HashSpec table and the data vector's 16-byte alignment. */
const HASHED_OVERHEAD = 48;
/** Bytes a quantized plain weight adds beyond its values: the scale and the alignment (an estimate, as above; the file is measured). */
const QUANTIZED_OVERHEAD = 16;
/** Bytes kept free for the metadata that retraining records (engine, optimiser, accuracies: about 0.9 KiB). */
export const TRAINING_METADATA_RESERVE = 1152;

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/** One way to store a layer's weight. */
export interface LayerOption {
  layer: string;
  virtual: number;
  buckets: number | null; // null: dense float32
  dtype: DType;
  /** Bytes the weight takes in the file (hashed: buckets + HASHED_OVERHEAD; dense int8: values + QUANTIZED_OVERHEAD). */
  bytes: number;
  /** Points of held-out accuracy lost when this layer alone is stored so (0 when dense). */
  drop: number;
}

/** One choice per candidate layer. */
export interface Allocation {
  options: LayerOption[];
  bytes: number;
  drop: number;
}

export interface Candidate {
  layer: string;
  virtual: number;
  hashable: boolean; // at least SEARCH_MIN_VIRTUAL values
}

/** The layers whose storage the search chooses. */
export function searchCandidates(model: Model): Candidate[] {
  const out: Candidate[] = [];
  for (const node of model.nodes) {
    const w = node.op.type === 'Dense' || node.op.type === 'Conv2D' ? weightsOf(node.op) : null;
    if (w) out.push({ layer: node.name, virtual: sizeOf(w.weight.shape), hashable: sizeOf(w.weight.shape) >= SEARCH_MIN_VIRTUAL });
  }
  return out;
}

export const denseOption = (c: Candidate, dtype: DType = 'float32'): LayerOption => ({
  layer: c.layer, virtual: c.virtual, buckets: null, dtype, bytes: storedBytes(dtype, c.virtual) + (dtype === 'float32' ? 0 : QUANTIZED_OVERHEAD), drop: 0,
});

/** The hashed options of a layer to measure: stored sizes from 1/16 of its float32 bytes down by halves, in each dtype. */
export function hashedOptions(c: Candidate): LayerOption[] {
  const options: LayerOption[] = [];
  for (let bytes = Math.floor(c.virtual / 4); bytes >= MIN_OPTION_BYTES; bytes = Math.floor(bytes / 2)) {
    for (const dtype of SEARCH_DTYPES) {
      const buckets = dtype === 'int4' ? 2 * bytes : bytes; // int8: one bucket a byte; int4: two
      options.push({ layer: c.layer, virtual: c.virtual, buckets, dtype, bytes: storedBytes(dtype, buckets) + HASHED_OVERHEAD, drop: 0 });
    }
  }
  return options;
}

/**
 * Measured drops made consistent: for one layer and dtype, fewer buckets never cost less
 * (held-out noise otherwise lets the allocation prefer a smaller array), and a drop is at least 0.
 */
export function monotoneDrops(options: LayerOption[]): LayerOption[] {
  const byDtype = new Map<DType, LayerOption[]>();
  for (const o of options) byDtype.set(o.dtype, [...(byDtype.get(o.dtype) ?? []), o]);
  const out: LayerOption[] = [];
  for (const list of byDtype.values()) {
    let worst = 0;
    for (const o of [...list].sort((a, b) => b.bytes - a.bytes)) {
      worst = Math.max(worst, o.drop);
      out.push({ ...o, drop: worst });
    }
  }
  return out;
}

/**
 * The Pareto front of allocations over the layers' options: sorted by bytes, each with a smaller
 * predicted drop than every smaller one. Exact, merging one layer at a time.
 */
export function paretoFront(layers: readonly LayerOption[][]): Allocation[] {
  let front: Allocation[] = [{ options: [], bytes: 0, drop: 0 }];
  for (const options of layers) {
    const merged = front.flatMap((a) => options.map((o) => ({ options: [...a.options, o], bytes: a.bytes + o.bytes, drop: a.drop + o.drop })));
    merged.sort((a, b) => a.bytes - b.bytes || a.drop - b.drop);
    front = [];
    for (const a of merged) if (front.length === 0 || a.drop < front[front.length - 1].drop) front.push(a);
  }
  return front;
}

/** What the search holds fixed: the hash function, seeds and signs, the bias storage, and whether the file is stripped. */
export interface SearchBase {
  hash: HashSpec['algorithm'];
  /** Z of xxh32-block or xxh32-aligned-block; null for per-element xxh32, or for the block hash's own default. */
  block: number | null;
  seed: number;
  signed: boolean;
  biasDtype: DType;
  /** Given by --dense-dtype: the one storage of dense weights (else float32 or SEARCH_DENSE_DTYPE, chosen per layer). */
  denseDtype: DType | null;
  strip: boolean;
}

/** The policy that stores each layer as its allocation says. */
export function allocationPolicy(allocation: Allocation, base: SearchBase): HashPolicy {
  const buckets: Record<string, number> = {};
  const dtypes: Record<string, DType> = {};
  const dense: string[] = [];
  for (const o of allocation.options) {
    if (o.buckets === null) dense.push(o.layer);
    else buckets[o.layer] = o.buckets;
    dtypes[o.layer] = o.dtype; // of the buckets, or of the dense weight
  }
  // compression 1: layers outside the allocation (ConvTranspose, Constants) stay dense too.
  return {
    compression: 1, buckets, dtypes, dense, seed: base.seed, signed: base.signed, minVirtual: SEARCH_MIN_VIRTUAL, biasDtype: base.biasDtype,
    hash: base.hash, ...(base.block === null ? {} : { block: base.block }),
  };
}

/** What the search is asked for: a whole-file size in bytes, or a drop in points. */
export type Target = { size: number } | { maxDrop: number };

/** The training flags the sensitivity runs share with the final training: how it learns, not how long. */
export type SensitivityTraining = Pick<TrainOptions, 'optimizer' | 'learningRate' | 'momentum' | 'schedule' | 'batchSize' | 'weightDecay' | 'dropout' | 'quantizationAware'>;

export function sensitivityTraining(o: TrainOptions): SensitivityTraining {
  const { optimizer, learningRate, momentum, schedule, batchSize, weightDecay, dropout, quantizationAware } = o;
  return { optimizer, learningRate, momentum, schedule, batchSize, weightDecay, dropout, quantizationAware };
}

export interface SearchContext {
  dense: Model; // with the input normalization recorded
  normalization: Normalization;
  train: Dataset; // the raw training examples
  base: SearchBase;
  engine: Pick<TrainOptions, 'engine' | 'threads' | 'backend'> & { engine?: EngineName };
  training: SensitivityTraining;
  log: (line: string) => void;
}

export interface SearchResult {
  policy: HashPolicy;
  allocation: Allocation;
  /** Every measured option, for the report. */
  measured: LayerOption[];
  /** The held-out accuracy of the briefly retrained dense model the drops are measured against. */
  baseline: number;
  heldOut: number;
  /** Predicted whole-file bytes: the hashed model's encoding plus TRAINING_METADATA_RESERVE (stripped: the stripped encoding). */
  predictedBytes: number;
}

/** Steps 1–3 of the search (see the top of the file). Throws TargetError when no allocation meets the target. */
export async function searchBudget(ctx: SearchContext, target: Target): Promise<SearchResult> {
  const { evaluate, sliceDataset, train } = await import('@hnet/train');
  const { base } = ctx;
  const candidates = searchCandidates(ctx.dense);
  if (!candidates.some((c) => c.hashable)) throw new UsageError(`no Dense/Conv2D weight has ${SEARCH_MIN_VIRTUAL} or more values: there is nothing to hash`);
  const count = ctx.train.count;
  const heldOutCount = Math.min(HELD_OUT_EXAMPLES, Math.floor(count / 5));
  if (heldOutCount < 20) throw new UsageError(`the budget search needs at least 100 training examples, the data has ${count}`);
  const heldOut = sliceDataset(ctx.train, count - heldOutCount, heldOutCount);
  const slice = sliceDataset(ctx.train, 0, Math.min(SENSITIVITY_EXAMPLES, count - heldOutCount));
  const briefly = async (model: Model): Promise<number> => {
    const { model: trained } = await train(model, slice, {
      ...ctx.training, epochs: SENSITIVITY_EPOCHS, seed: base.seed, normalization: ctx.normalization, quiet: true, ...ctx.engine,
    });
    return (await evaluate(trained, heldOut, { normalization: ctx.normalization, ...ctx.engine, quiet: true })).accuracy;
  };
  const started = performance.now();
  const baseline = await briefly(hashModel(ctx.dense, { compression: 1, biasDtype: base.biasDtype }).model);
  // A layer's dense choices: float32 (the baseline, drop 0) and int8, or only the --dense-dtype given.
  const denseChoices = (c: Candidate): LayerOption[] => (base.denseDtype ? [denseOption(c, base.denseDtype)] : [denseOption(c), denseOption(c, SEARCH_DENSE_DTYPE)]);
  const toMeasure = (c: Candidate): LayerOption[] => [...denseChoices(c).filter((o) => o.dtype !== 'float32'), ...(c.hashable ? hashedOptions(c) : [])];
  const runs = candidates.reduce((n, c) => n + toMeasure(c).length, 0);
  ctx.log(`budget search: ${runs} sensitivity runs (${SENSITIVITY_EPOCHS} epoch on ${slice.count} examples each, scored on ${heldOut.count} held out); dense retrained the same way: ${(baseline * 100).toFixed(2)}%`);
  const measured: LayerOption[] = [];
  const layers: LayerOption[][] = [];
  for (const c of candidates) {
    const raw: LayerOption[] = [];
    for (const option of toMeasure(c)) {
      const policy = allocationPolicy({ options: [option], bytes: option.bytes, drop: 0 }, base); // this layer so, the rest dense
      const accuracy = await briefly(hashModel(ctx.dense, policy).model);
      raw.push({ ...option, drop: (baseline - accuracy) * 100 });
      const stored = option.buckets === null ? 'dense' : `${option.buckets} buckets`;
      ctx.log(`  ${c.layer} ${option.dtype} ${stored} (${formatBytes(option.bytes)}): ${(accuracy * 100).toFixed(2)}% (drop ${((baseline - accuracy) * 100).toFixed(2)})`);
    }
    measured.push(...raw);
    const dense = denseChoices(c).map((o) => raw.find((r) => r.buckets === null && r.dtype === o.dtype) ?? o);
    layers.push([...dense.map((o) => ({ ...o, drop: Math.max(0, o.drop) })), ...monotoneDrops(raw.filter((o) => o.buckets !== null))]);
  }
  ctx.log(`budget search: sensitivities measured in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  // The front; then the point that meets the target, predicted from option bytes and confirmed on the encoding.
  const front = paretoFront(layers);
  const fileBytes = (a: Allocation, strip = base.strip): number => {
    const model = hashModel(ctx.dense, allocationPolicy(a, base)).model;
    return strip ? encode(stripModel(model).model).length : encode(model).length + TRAINING_METADATA_RESERVE;
  };
  const result = (a: Allocation, predictedBytes: number): SearchResult => ({
    policy: allocationPolicy(a, base), allocation: a, measured, baseline, heldOut: heldOut.count, predictedBytes,
  });
  if ('maxDrop' in target) {
    const fits = front.find((a) => a.drop <= target.maxDrop);
    if (!fits) {
      throw new TargetError(`--max-drop ${target.maxDrop} cannot be met: every allocation is predicted to lose more (the least is ${front[front.length - 1].drop.toFixed(2)} points)`);
    }
    return result(fits, fileBytes(fits));
  }
  const smallest = fileBytes(front[0]);
  if (smallest > target.size) {
    const stripped = base.strip ? smallest : fileBytes(front[0], true);
    const hint = !base.strip && stripped <= target.size ? `; with --strip (no names or provenance metadata) it is ${stripped} bytes` : '';
    throw new TargetError(`--target-size ${formatBytes(target.size)} (${target.size} bytes) cannot be met: the smallest file this search makes is ${smallest} bytes ` +
      `(every layer at ${MIN_OPTION_BYTES} B of buckets, plus the biases, graph and metadata)${hint}`);
  }
  // The rest of the file (graph, biases, small layers, metadata) is the same for every point of the front.
  const fixed = smallest - front[0].bytes;
  let i = front.length - 1;
  while (i > 0 && fixed + front[i].bytes > target.size) i--;
  for (; i > 0; i--) {
    const bytes = fileBytes(front[i]);
    if (bytes <= target.size) return result(front[i], bytes);
  }
  return result(front[0], smallest);
}
