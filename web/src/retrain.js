// Retraining in the page, without the DOM (tested in Node with onnxruntime-web):
// the digits file → datasets; a dense model hashed at 1/8 → the ort engine of
// @hnet/train/browser on onnxruntime-web → the training loop `hnet convert
// --retrain` runs (runEpochs: its defaults — SGD, lr 0.1 with hashed tensors
// at lr/√load, warm-up + cosine — the divergence guard, the best epoch on the
// held-out digits, the worse-than-start verdict) → loss and accuracy on the
// held-out digits before and after → the retrained model.

import { hashModel } from '@hnet/convert/hashing';
import { createOrtEngine, defaultSgdSchedule, hashedRateFactors, Progress, Rng, runEpochs } from '@hnet/train/browser';

export const PIXELS = 784;
export const CLASSES = 10;
export const COMPRESSION = 1 / 8;
export const HASH_SEED = 1; // the default model's hash seed (web/scripts/make-default-model.ts)

/**
 * The digits file (web/scripts/make-retrain-data.ts), gunzipped: uint32 LE
 * train count, uint32 LE test count, then per example a label byte and 784
 * pixel bytes. Pixels come back as ink in [0, 1], the fixture's input.
 */
export function parseDigits(bytes, name = 'digits.bin') {
  if (bytes.length < 8) throw new Error(`${name}: ${bytes.length} bytes, shorter than its 8-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const counts = [view.getUint32(0, true), view.getUint32(4, true)];
  const expected = 8 + (counts[0] + counts[1]) * (1 + PIXELS);
  if (bytes.length !== expected) throw new Error(`${name}: ${bytes.length} bytes, but its header announces ${counts[0]} + ${counts[1]} digits (${expected} bytes)`);
  let at = 8;
  const [train, test] = counts.map((count) => {
    const x = new Float32Array(count * PIXELS);
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++, at += 1 + PIXELS) {
      y[i] = bytes[at];
      if (y[i] >= CLASSES) throw new Error(`${name}: digit ${i} has label ${y[i]}`);
      for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = bytes[at + 1 + p] / 255;
    }
    return { x, y, count };
  });
  return { train, test };
}

/** The dense model hashed as the default model was: every big layer at 1/8, seed 1. */
export function hashForRetraining(dense) {
  return hashModel(dense, { compression: COMPRESSION, seed: HASH_SEED }).model;
}

/** Mean cross-entropy and accuracy of logits [count, 10] against labels. */
export function lossAndAccuracy(logits, labels) {
  let loss = 0;
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * CLASSES, (i + 1) * CLASSES);
    let best = 0;
    let max = row[0];
    for (let c = 1; c < CLASSES; c++) if (row[c] > max) [best, max] = [c, row[c]];
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) sum += Math.exp(row[c] - max);
    loss += Math.log(sum) + max - row[labels[i]];
    if (best === labels[i]) hits++;
  }
  return { loss: loss / labels.length, accuracy: hits / labels.length };
}

/**
 * Trains `model` for `epochs` passes over `data.train` with train()'s loop,
 * keeping the epoch best on `data.test`, and measures `data.test` before and
 * after. `onProgress` is awaited after each run of steps (the page repaints
 * there). `worseThanStart`: the result is below the projection it started
 * from, and the page keeps nothing (as `hnet convert` writes nothing).
 */
export async function retrain(model, data, ort, { epochs = 15, batchSize = 50, seed = 1, threads = 1, onProgress = async (_progress) => {} } = {}) {
  const engine = await createOrtEngine(model, { rateFactors: hashedRateFactors(model), threads }, ort);
  try {
    const measure = async () => lossAndAccuracy(await engine.logits(data.test.x, data.test.count), data.test.y);
    const before = await measure();
    const stepsPerEpoch = Math.ceil(data.train.count / batchSize);
    const steps = epochs * stepsPerEpoch;
    const dataset = (d) => ({ x: d.x, y: d.y, shape: [PIXELS], count: d.count });
    const sets = { train: dataset(data.train), validation: dataset(data.test), teacherTrain: null, teacherValidation: null };
    const start = performance.now();
    let firstRun = 0; // the first run also creates the step graph's session: timed apart
    let firstSteps = 0;
    const run = await runEpochs(engine, sets, {
      epochs, batchSize, patience: Infinity, schedule: defaultSgdSchedule(epochs, stepsPerEpoch),
      onSteps: async ({ epoch, step, loss }) => {
        if (firstRun === 0) [firstRun, firstSteps] = [performance.now(), step];
        await onProgress({ epoch, epochs, step, steps, loss, seconds: (performance.now() - start) / 1000 });
      },
    }, new Rng(seed), new Progress(null, epochs));
    const end = performance.now();
    const after = await measure();
    return {
      before,
      after,
      worseThanStart: run.worseThanStart,
      divergences: run.divergences,
      bestEpoch: run.best?.epoch ?? epochs,
      history: run.history,
      steps,
      seconds: (end - start) / 1000,
      firstRunSeconds: (firstRun - start) / 1000,
      /** over the steps after the first run (the first alone when there is one) */
      stepsPerSecond: steps > firstSteps ? ((steps - firstSteps) * 1000) / (end - firstRun) : (firstSteps * 1000) / (firstRun - start),
      engine: engine.description,
      model: engine.toModel(),
    };
  } finally {
    await engine.dispose();
  }
}
