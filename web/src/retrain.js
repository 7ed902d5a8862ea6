// Retraining in the page, without the DOM (tested in Node with onnxruntime-web):
// the digits file → datasets; a dense model hashed at 1/8 → the ort engine of
// @hnet/train/browser on onnxruntime-web → a few hundred steps of Adam on
// the small training subset → loss and accuracy on the held-out digits
// before and after → the retrained model.

import { hashModel } from '@hnet/convert/hashing';
import { createOrtEngine, Rng } from '@hnet/train/browser';

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
 * Trains `model` for `steps` minibatches (Adam, shuffled each pass, seeded)
 * on `data.train` and measures `data.test` before and after. `onProgress`
 * is awaited every `every` steps (the page repaints there).
 */
export async function retrain(model, data, ort, { steps = 300, batchSize = 50, learningRate = 1e-3, seed = 1, threads = 1, every = 25, onProgress = async (_progress) => {} } = {}) {
  const engine = await createOrtEngine(model, { optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, threads }, ort);
  try {
    const measure = async () => lossAndAccuracy(await engine.logits(data.test.x, data.test.count), data.test.y);
    const before = await measure();
    const rng = new Rng(seed);
    const order = Array.from({ length: data.train.count }, (_, i) => i);
    const batch = { count: batchSize, x: new Float32Array(batchSize * PIXELS), labels: new Int32Array(batchSize), teacher: null };
    const losses = [];
    let hits = 0;
    let cursor = order.length; // a pass ends: reshuffle
    const start = performance.now();
    let firstStep = 0; // the first step also creates the step graph's session: timed apart
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < batchSize; i++, cursor++) {
        if (cursor === order.length) {
          rng.shuffle(order);
          cursor = 0;
        }
        const k = order[cursor];
        batch.x.set(data.train.x.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
        batch.labels[i] = data.train.y[k];
      }
      const result = await engine.step(batch, learningRate);
      if (!Number.isFinite(result.loss)) throw new Error(`step ${s + 1}: the loss became ${result.loss}`);
      if (s === 0) firstStep = performance.now();
      losses.push(result.loss);
      hits += result.hits;
      if ((s + 1) % every === 0 || s + 1 === steps) await onProgress({ step: s + 1, steps, loss: result.loss, seconds: (performance.now() - start) / 1000 });
    }
    const end = performance.now();
    const after = await measure();
    return {
      before,
      after,
      losses,
      trainAccuracy: hits / (steps * batchSize),
      seconds: (end - start) / 1000,
      firstStepSeconds: (firstStep - start) / 1000,
      /** over the steps after the first (the first alone when there is one) */
      stepsPerSecond: steps > 1 ? ((steps - 1) * 1000) / (end - firstStep) : 1000 / (firstStep - start),
      engine: engine.description,
      model: engine.toModel(),
    };
  } finally {
    await engine.dispose();
  }
}
