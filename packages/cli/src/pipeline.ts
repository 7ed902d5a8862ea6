// The one path from a model to .hnet bytes: import → hash → train → encode.
// `hnet convert` (with --retrain), `hnet train` and `hnet demo` all call
// pipeline(); the verbs only parse flags into its options and print reports.
// @hnet/train (TensorFlow.js) is loaded only when there is a training step.

import { statSync } from 'node:fs';
import { hashModel, importOnnx, type HashPolicy, type HashReport, type ImportReport } from '@hnet/convert';
import { encode, formatCount, weightsOf, type Model } from '@hnet/format';
import type { DataSplits, TrainOptions, TrainSummary } from '@hnet/train';
import { UsageError } from './args.js';
import { loadAnyModel, loadHnet } from './common.js';
import { SlowWork } from './slow-work.js';
import type { Io } from './verb.js';

export interface Training {
  /** A DATA spec for loadData ("mnist", a folder, .csv, .npy, IDX) or splits already loaded. */
  data: string | DataSplits;
  options: TrainOptions;
  /** Distil from the model before hashing (when dense) or from `teacher`. */
  distill: boolean;
  /** A dense teacher model file (.onnx or .hnet); implies distillation. */
  teacher: string | null;
}

export interface PipelineResult {
  model: Model;
  dense: Model; // the model before hashing
  bytes: Uint8Array; // the encoded .hnet
  imported: ImportReport | null; // null unless the input was an .onnx file
  hashing: HashReport;
  training: { summary: TrainSummary; data: DataSplits } | null;
}

/**
 * Reads `input` (an .onnx or .hnet file, or a model already in memory), hashes it by `policy`, trains it if asked, and encodes it.
 * `onHashed` sees the import and hashing reports before training starts (the verbs print them then).
 */
export async function pipeline(
  input: string | Model,
  policy: HashPolicy,
  training: Training | null,
  io: Io,
  onHashed?: (imported: ImportReport | null, hashing: HashReport) => void,
): Promise<PipelineResult> {
  const slow = new SlowWork(io.err);
  let imported: ImportReport | null = null;
  let dense: Model;
  if (typeof input !== 'string') {
    dense = input;
  } else if (input.toLowerCase().endsWith('.hnet')) {
    dense = loadHnet(input).model;
  } else {
    const r = slow.step(`importing ${input}`, fileSize(input), () => importOnnx(input));
    dense = r.model;
    imported = r.report;
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
  return { model, dense, bytes: encode(model), imported, hashing: hashed.report, training: trained };
}

/** The size of a file, or 0 when it cannot be read (the importer then says why). */
function fileSize(file: string): number {
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

/**
 * Trains `student` on `training.data`, distilling from `dense` (the model
 * before hashing) or from the teacher file. Its metadata records the summary.
 */
async function trainModel(student: Model, dense: Model, training: Training, io: Io): Promise<{ model: Model; summary: TrainSummary; data: DataSplits }> {
  const { loadData, train } = await import('@hnet/train');
  const data = typeof training.data === 'string' ? loadData(training.data) : training.data;
  // The model before hashing teaches only if it is dense: an .hnet input may already be hashed.
  const teacher = training.teacher ? loadAnyModel(training.teacher) : training.distill && isDense(dense) ? dense : null;
  if (training.distill && !teacher) {
    throw new UsageError('--distill needs a dense teacher: give an .onnx input or --teacher FILE');
  }
  const { options } = training;
  const result = await train(student, data.train, {
    ...options,
    teacher: teacher ?? undefined,
    test: data.test ?? undefined,
    dataSource: data.source,
  });
  const { summary } = result;
  if (!options.quiet) {
    const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);
    io.err(`trained ${summary.epochs} epoch(s) on ${summary.backend} (${summary.lossMode}, best epoch ${summary.bestEpoch}): validation ${pct(summary.validationAccuracy)}, test ${pct(summary.testAccuracy)}, ${summary.secondsPerEpoch.toFixed(1)} s/epoch`);
  }
  return { ...result, data };
}
