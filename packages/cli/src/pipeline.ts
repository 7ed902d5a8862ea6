// The one path from a model to .hnet bytes: import → hash → train → strip → encode.
// `hnet convert` (with --retrain), `hnet train` and `hnet demo` all call
// pipeline(); the verbs only parse flags into its options and print reports.
// @hnet/train (TensorFlow.js) is loaded only when there is a training step.

import { statSync } from 'node:fs';
import { hashModel, importOnnx, stripModel, type HashPolicy, type HashReport, type ImportReport, type StripReport } from '@hnet/convert';
import { checkNormalizationFits, encode, formatCount, HnetFormatError, normalizationEntry, weightsOf, type Model, type Normalization } from '@hnet/format';
import type { DataSplits, TrainOptions, TrainSummary } from '@hnet/train';
import { UsageError } from './args.js';
import { loadAnyModel, loadHnet } from './common.js';
import { SlowWork } from './slow-work.js';
import type { Io } from './verb.js';

export interface Training {
  /** A DATA spec for loadData ("mnist", a folder, .csv, .npy, IDX) or splits already loaded. */
  data: string | DataSplits;
  options: TrainOptions;
  /**
   * Distil from the model before hashing (when dense) or from `teacher`. Not
   * the default: with Fashion-MNIST's 54,000 labels it gained nothing at 1/8
   * and cost a point at 1/64 (docs/results/TRAINING.md); it helps with few labels.
   */
  distill: boolean;
  /** A dense teacher model file (.onnx or .hnet); implies distillation. */
  teacher: string | null;
  /** Train on the first `limit` training examples only. */
  limit: number | null;
  /** The input preprocessing given on the command line; else the recorded one, else measured for byte data. */
  preprocessing: Normalization | null;
  /** Keep a result worse than the start (else it is an error and nothing is written). */
  force: boolean;
}

export interface PipelineResult {
  model: Model;
  dense: Model; // the model before hashing
  bytes: Uint8Array; // the encoded .hnet
  imported: ImportReport | null; // null unless the input was an .onnx file
  hashing: HashReport;
  training: { summary: TrainSummary; data: DataSplits } | null;
  stripped: StripReport | null; // null unless asked
}

export interface PipelineOptions {
  /** Sees the import and hashing reports before training starts (the verbs print them then). */
  onHashed?: (imported: ImportReport | null, hashing: HashReport) => void;
  /** The input preprocessing to record (default: the training's). */
  preprocessing?: Normalization | null;
  /** Write only what running the model needs (stripModel): after training, whose record it drops. */
  strip?: boolean;
}

/**
 * Reads `input` (an .onnx or .hnet file, or a model already in memory or read by readModel), records the given input preprocessing,
 * hashes it by `policy`, trains it if asked, strips it if asked, and encodes it.
 */
export async function pipeline(input: string | Model | ReadModel, policy: HashPolicy, training: Training | null, io: Io, options: PipelineOptions = {}): Promise<PipelineResult> {
  const { onHashed, strip = false } = options;
  const preprocessing = options.preprocessing !== undefined ? options.preprocessing : training?.preprocessing ?? null;
  const slow = new SlowWork(io.err);
  const read = typeof input === 'string' ? readModel(input, io) : 'imported' in input ? input : { model: input, imported: null };
  const { imported } = read;
  let dense = read.model;
  if (preprocessing) {
    fitsInput(preprocessing, dense);
    dense = { ...dense, metadata: { ...dense.metadata, ...normalizationEntry(preprocessing) } };
  }
  const hashed = slow.step('hashing', 0, (step) => hashModel(dense, policy, {
    onWeight: (w) => step.item(`${w.layer} ${w.part}`, w.virtual, w.index, w.total, w.buckets === null ? '(dense)' : `→ ${formatCount(w.buckets)} buckets`),
  }));
  onHashed?.(imported, hashed.report);
  let model = hashed.model;
  let trained: PipelineResult['training'] = null;
  if (training) {
    const r = await trainModel(model, dense, training, io);
    model = r.model;
    trained = { summary: r.summary, data: r.data };
  }
  let stripped: StripReport | null = null;
  if (strip) ({ model, report: stripped } = stripModel(model));
  return { model, dense, bytes: encode(model), imported, hashing: hashed.report, training: trained, stripped };
}

/** A model read from a file, with the import report when it was an .onnx file. */
export interface ReadModel {
  model: Model;
  imported: ImportReport | null;
}

/** Reads an .onnx (imported) or .hnet file. */
export function readModel(input: string, io: Io): ReadModel {
  if (input.toLowerCase().endsWith('.hnet')) return { model: loadHnet(input).model, imported: null };
  const r = new SlowWork(io.err).step(`importing ${input}`, fileSize(input), () => importOnnx(input));
  return { model: r.model, imported: r.report };
}

/** The size of a file, or 0 when it cannot be read (the importer then says why). */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

const isDense = (model: Model): boolean =>
  model.nodes.every((node) => {
    const w = weightsOf(node.op);
    return !w || (w.weight.hash === null && !w.bias?.hash);
  });

/** A UsageError unless the per-channel values fit the model's input. */
function fitsInput(norm: Normalization, model: Model): void {
  try {
    checkNormalizationFits(norm, model.inputs[0].shape, 'preprocessing');
  } catch (e) {
    if (e instanceof HnetFormatError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Trains `student` on `training.data`, distilling from `dense` (the model
 * before hashing) or from the teacher file. The input preprocessing is the
 * given one, else the recorded one, else for byte data the one under which
 * the dense model scores best (printed). A result worse than the start is an
 * error unless `force`. Its metadata records the summary.
 */
async function trainModel(student: Model, dense: Model, training: Training, io: Io): Promise<{ model: Model; summary: TrainSummary; data: DataSplits }> {
  const { decidePreprocessing, loadData, sliceDataset, train, TrainError } = await import('@hnet/train');
  const loaded = typeof training.data === 'string' ? loadData(training.data) : training.data;
  const { limit } = training;
  const data = limit !== null && limit < loaded.train.count ? { ...loaded, train: sliceDataset(loaded.train, 0, limit), source: `${loaded.source} (first ${limit})` } : loaded;
  // The model before hashing teaches (and is the baseline) only if it is dense: an .hnet input may already be hashed.
  const denseModel = isDense(dense) ? dense : null;
  const teacher = training.teacher ? loadAnyModel(training.teacher) : training.distill ? denseModel : null;
  if (training.distill && !teacher) {
    throw new UsageError('--distill needs a dense teacher: give an .onnx input or --teacher FILE');
  }
  const { options } = training;
  const choice = await decidePreprocessing(student, data.train, training.preprocessing, {
    judge: denseModel ?? undefined,
    log: options.quiet ? undefined : io.err,
    engine: { engine: options.engine, threads: options.threads, backend: options.backend },
  });
  fitsInput(choice.normalization, student);
  const result = await train(student, data.train, {
    ...options,
    normalization: choice.normalization,
    teacher: teacher ?? undefined,
    dense: denseModel ?? undefined,
    test: data.test ?? undefined,
    dataSource: data.source,
  });
  const { summary } = result;
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);
  if (!options.quiet) {
    io.err(`trained ${summary.epochs} epoch(s) on ${summary.backend} (${summary.lossMode}, best epoch ${summary.bestEpoch}): validation ${pct(summary.validationAccuracy)}, test ${pct(summary.testAccuracy)}, ${summary.secondsPerEpoch.toFixed(1)} s/epoch`);
  }
  if (summary.worseThanStart) {
    const what = `training made the model worse: ${pct(summary.result.accuracy)} on ${summary.result.count} ${summary.result.on} examples after, ${pct(summary.start.accuracy)} before`;
    if (!training.force) throw new TrainError('options', `${what}; nothing written (try a lower --lr, more --epochs, or --force to write it anyway)`);
    io.err(`warning: ${what}; writing it because of --force`);
  }
  return { ...result, data };
}
