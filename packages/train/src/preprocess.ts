// Which preprocessing a model expects, when nobody said. An imported ONNX
// model records none; fed IDX bytes 0–255 where it was trained on [0, 1],
// it outputs noise and retraining it diverges. So when the data are bytes
// and nothing is recorded or given, the model's own accuracy decides: each
// candidate preprocessing is scored on a seeded sample of labelled examples,
// the best one is used if it is clearly above chance, and otherwise the run
// stops with the flags to add. Either way the user is told.
//
// "Best" is the first in the candidates' order (pixel/255, fitted mean/std,
// [−1, 1], imagenet, raw bytes last) among those whose accuracy is within
// noise of the top one: a ReLU net with small biases classifies bytes about
// as well as [0, 1] values (its logits just grow 255×), but retraining it on
// them diverges, and a model that wants raw bytes is the rare case. Neither
// the loss nor the confidence can tell them apart: on examples it fits, the
// 255× logits even have the lower loss.

import { describeNormalization, IDENTITY_NORMALIZATION, normalizationFlags, readNormalization, presetNormalization, type Model, type Normalization } from '@hnet/format';
import { fitNormalization, pickExamples, type Dataset } from './data.js';
import { TrainError } from './errors.js';
import { Rng } from './rng.js';
import { predictLogits, type EvaluateOptions } from './train.js';

export interface CandidateScore {
  label: string;
  normalization: Normalization;
  accuracy: number;
  /** Mean cross-entropy of the model's outputs taken as logits. */
  loss: number;
}

export interface PreprocessChoice {
  normalization: Normalization;
  /** 'given': flags; 'recorded': the model's metadata; 'measured': the best candidate; 'none': real-valued data, nothing recorded. */
  how: 'given' | 'recorded' | 'measured' | 'none';
  /** The candidates' scores, by accuracy, best first ('measured' only). */
  candidates: CandidateScore[];
  /** The accuracy of always answering the commonest label of the sample. */
  chance: number;
  examples: number;
}

/** Non-negative integers with a maximum in (1, 255]: image bytes, not already scaled values. */
export function looksLikeBytes(data: Dataset): boolean {
  let max = 0;
  const step = Math.max(1, Math.floor(data.x.length / 100000)); // a strided look is enough and keeps 47M values fast
  for (let i = 0; i < data.x.length; i += step) {
    const v = data.x[i];
    if (v < 0 || v > 255 || v !== Math.round(v)) return false;
    if (v > max) max = v;
  }
  return max > 1;
}

/** Channels of the model input: axis 1 of [N, C, H, W], else 1. */
const inputChannels = (model: Model): number => (model.inputs[0].shape.length === 4 ? model.inputs[0].shape[1] : 1);

/** The preprocessings worth trying on byte data, in the order of preference among equals (see above); ImageNet's only for 3 channels. */
export function candidatePreprocessings(model: Model, data: Dataset): { label: string; normalization: Normalization }[] {
  const channels = inputChannels(model);
  const fitted = fitNormalization(data, 1 / 255, channels);
  return [
    { label: 'pixel/255', normalization: presetNormalization('pixel/255') },
    { label: 'mean/std of the data', normalization: { ...fitted, mean: fitted.mean.map((m) => Number(m.toPrecision(4))), std: fitted.std.map((s) => Number(s.toPrecision(4))) } },
    { label: '[-1,1]', normalization: { scale: 1 / 255, mean: [0.5], std: [0.5] } },
    ...(channels === 3 ? [{ label: 'imagenet', normalization: presetNormalization('imagenet') }] : []),
    { label: 'none', normalization: IDENTITY_NORMALIZATION },
  ];
}

/** Accuracy needed to count as clearly above chance: 10 points, or 4 standard errors of chance if more. */
export function clearlyAboveChance(chance: number, examples: number): number {
  return chance + Math.max(0.1, 4 * Math.sqrt((chance * (1 - chance)) / Math.max(examples, 1)));
}

export interface ChooseOptions {
  /** Examples scored per candidate (default 1000, a seeded sample: ±1 point at 88%, and 5 forward passes of it stay cheap for a CNN). */
  examples?: number;
  seed?: number;
  /** Where the table of scores goes, one line each. */
  log?: (line: string) => void;
  /** The engine that scores the candidates (default: evaluate()'s, ort). */
  engine?: Pick<EvaluateOptions, 'engine' | 'threads' | 'backend'>;
}

/** Scores every candidate on labelled byte data with `model` and returns the best, or throws with the flags to add. */
export async function choosePreprocessing(model: Model, data: Dataset, options: ChooseOptions = {}): Promise<PreprocessChoice> {
  const candidates = candidatePreprocessings(model, data);
  const hint = 'tell hnet how the model expects its input: --preprocess pixel/255 (inputs in [0, 1]), --preprocess imagenet, or --input-scale S --mean M --std S (x = (raw · S − M) / S per channel)';
  if (!data.y) {
    throw new TrainError('data', `the data are bytes (0–255), the model records no input preprocessing, and the data have no labels to measure which one it expects; ${hint}`);
  }
  const n = Math.min(options.examples ?? 1000, data.count);
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  new Rng(options.seed ?? 12345).shuffle(order);
  const sample = pickExamples(data, order.subarray(0, n));
  const counts = new Map<number, number>();
  for (const label of sample.y!) counts.set(label, (counts.get(label) ?? 0) + 1);
  const chance = Math.max(...counts.values()) / n;

  const scores: CandidateScore[] = [];
  for (const c of candidates) {
    const { logits, classes } = await predictLogits(model, sample, { ...options.engine, normalization: c.normalization });
    let correct = 0;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = logits.subarray(i * classes, (i + 1) * classes);
      let best = 0;
      for (let k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
      if (best === sample.y![i]) correct++;
      let sum = 0;
      for (let k = 0; k < classes; k++) sum += Math.exp(row[k] - row[best]);
      loss += Math.log(sum) + row[best] - row[sample.y![i]];
    }
    scores.push({ ...c, accuracy: correct / n, loss: loss / n });
  }
  // scores are in the order of preference: the first within noise of the top accuracy wins.
  const top = Math.max(...scores.map((s) => s.accuracy));
  const noise = Math.max(0.01, 2 * Math.sqrt((top * (1 - top)) / n)); // 1 point, or 2 standard errors
  const best = scores.find((s) => s.accuracy >= top - noise)!;
  scores.sort((a, b) => b.accuracy - a.accuracy);
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const table = scores.map((s) => `${s.label} ${pct(s.accuracy)} (loss ${s.loss.toPrecision(3)})`).join(', ');
  if (best.accuracy < clearlyAboveChance(chance, n)) {
    throw new TrainError(
      'data',
      `the data are bytes (0–255) and the model records no input preprocessing; none of the candidates gives it an accuracy clearly above chance (${pct(chance)}) on ${n} examples: ${table}. ${hint[0].toUpperCase()}${hint.slice(1)}`,
    );
  }
  options.log?.(
    `input preprocessing: the data are bytes (0–255) and the model records none; measured the model on ${n} labelled examples: ${table} (chance ${pct(chance)}). ` +
      `Using ${best.label} (${describeNormalization(best.normalization)}; to choose it yourself: ${normalizationFlags(best.normalization)})`,
  );
  return { normalization: best.normalization, how: 'measured', candidates: scores, chance, examples: n };
}

/**
 * The preprocessing to use with `model` on `data`: the one given (flags),
 * else the one the model records, else, for byte data, the best measured
 * one (choosePreprocessing with `judge`, the dense model when there is one),
 * else none.
 */
export async function decidePreprocessing(
  model: Model,
  data: Dataset,
  given: Normalization | null,
  options: ChooseOptions & { judge?: Model } = {},
): Promise<PreprocessChoice> {
  const plain = (normalization: Normalization, how: PreprocessChoice['how']): PreprocessChoice => ({ normalization, how, candidates: [], chance: 0, examples: 0 });
  if (given) return plain(given, 'given');
  const recorded = readNormalization(model.metadata);
  if (recorded) return plain(recorded, 'recorded');
  if (!looksLikeBytes(data)) return plain(IDENTITY_NORMALIZATION, 'none');
  return choosePreprocessing(options.judge ?? model, data, options);
}
