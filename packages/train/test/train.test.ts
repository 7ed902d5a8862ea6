import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { decode, encode, readNormalization, runReference, valuesToFloat32, type Model } from '@hnet/format';
import { selectBackend } from '../src/backend.js';
import { normalize, type Dataset } from '../src/data.js';
import { TrainError } from '../src/errors.js';
import { TrainableGraph } from '../src/graph.js';
import { evaluate, predictLogits, train, type TrainOptions } from '../src/train.js';
import { Rng } from '../src/rng.js';
import { blobs, mlp } from './helpers.js';

before(async () => {
  await selectBackend('cpu', null);
});

const quiet: TrainOptions = { quiet: true };
const trainSet = blobs(400, 12, 4, 1);
const testSet = blobs(200, 12, 4, 2);

function argmax(v: ArrayLike<number>, row: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (v[row * k + c] > v[row * k + best]) best = c;
  return best;
}

/** The first layer's buckets as float32 (every student here starts with a Dense). */
function firstBuckets(m: Model): Float32Array {
  const op = m.nodes[0].op;
  assert.ok(op.type === 'Dense', `first node is a ${op.type}`);
  return valuesToFloat32(op.weight.values);
}

function agreement(a: Float32Array, b: Float32Array, k: number): number {
  let same = 0;
  for (let i = 0; i < a.length / k; i++) if (argmax(a, i, k) === argmax(b, i, k)) same++;
  return same / (a.length / k);
}

test('a tiny hashed run learns a separable set (scratch init, SGD + momentum)', async () => {
  const student = mlp(12, 32, 4, 1 / 4, new Rng(3), true);
  const { model, summary } = await train(student, trainSet, { ...quiet, epochs: 15, batchSize: 20, learningRate: 0.05, init: 'scratch', seed: 7, test: testSet });
  assert.ok(summary.testAccuracy! > 0.9, `test accuracy ${summary.testAccuracy} (chance 0.25)`);
  assert.ok(summary.history.at(-1)!.loss < summary.history[0].loss, 'loss went down');
  assert.ok(Math.abs(summary.compression - summary.storedParameters / summary.virtualParameters) < 1e-12);
  assert.ok(summary.compression < 0.3);
  assert.equal(model.metadata['hnet.train.test_accuracy'], summary.testAccuracy!.toFixed(6));
  assert.equal(model.metadata['hnet.train.loss'], 'ce');
  assert.equal(model.metadata['hnet.train.epochs'], '15');
  assert.equal(model.nodes.at(-1)!.op.type, 'Softmax', 'the final Softmax stays in the written model');
});

test("the trained student's predictions equal runReference of decode(encode(model)) (1e-4)", async () => {
  const student = mlp(12, 16, 4, 1 / 3, new Rng(4), true);
  const normalization = { scale: 0.5, mean: [0.25], std: [2] };
  const { model } = await train(student, trainSet, { ...quiet, epochs: 3, batchSize: 25, normalization, seed: 2 });
  assert.deepEqual(readNormalization(model.metadata), normalization);
  const written = decode(encode(model));
  // The reference runs on inputs normalised as the metadata says.
  const x = normalize(testSet, normalization).x;
  const reference = runReference(written, { x: { shape: [testSet.count, 12], data: x } }).y;
  const graph = new TrainableGraph(model, { trainable: false });
  const ours = tf.tidy(() => graph.forward(tf.tensor(x, [testSet.count, 12])).dataSync());
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - reference.data[i]) < 1e-4, `[${i}] ${ours[i]} vs ${reference.data[i]}`);
  // predictLogits applies the recorded normalization itself; its argmax equals the reference's.
  const { logits } = await predictLogits(written, testSet);
  assert.equal(agreement(logits, reference.data, 4), 1);
  graph.dispose();
});

test('distillation alone on unlabeled data improves agreement with the teacher', async () => {
  const { model: teacher } = await train(mlp(12, 32, 4, 1, new Rng(5)), trainSet, { ...quiet, epochs: 10, batchSize: 20, learningRate: 0.05, seed: 1 });
  const unlabeled: Dataset = { ...trainSet, y: null };
  const student = mlp(12, 32, 4, 1 / 8, new Rng(6));
  const teacherLogits = (await predictLogits(teacher, testSet)).logits;
  const before = agreement((await predictLogits(student, testSet)).logits, teacherLogits, 4);
  const { model, summary } = await train(student, unlabeled, { ...quiet, teacher, epochs: 10, batchSize: 20, learningRate: 0.05, temperature: 2, seed: 3 });
  const after = agreement((await predictLogits(model, testSet)).logits, teacherLogits, 4);
  assert.equal(summary.lossMode, 'distill');
  assert.ok(after > 0.9 && after > before + 0.2, `agreement with the teacher: ${before} before, ${after} after`);
  assert.match(model.metadata['hnet.train.loss'], /^distill \(T=2, alpha=0\)$/);
});

test('labels + distillation, Adam, step schedule, dropout, weight decay, validation with early stopping', async () => {
  const { model: teacher } = await train(mlp(12, 32, 4, 1, new Rng(5)), trainSet, { ...quiet, epochs: 5, batchSize: 20, learningRate: 0.05, seed: 1 });
  const { model, summary } = await train(mlp(12, 32, 4, 1 / 4, new Rng(8)), trainSet, {
    ...quiet, teacher, alpha: 0.5, optimizer: 'adam', learningRate: 0.01, schedule: 'step', stepEvery: 3, stepGamma: 0.5,
    dropout: 0.2, weightDecay: 1e-4, validation: 0.2, patience: 4, epochs: 30, batchSize: 20, seed: 4, test: testSet,
  });
  assert.equal(summary.lossMode, 'ce+distill');
  assert.ok(summary.epochs < 30, `early stopping ran ${summary.epochs} epochs`);
  assert.equal(summary.history[3].learningRate, 0.005);
  const best = Math.max(...summary.history.map((h) => h.validationAccuracy!));
  assert.equal(summary.validationAccuracy, best, 'the best checkpoint is kept');
  assert.equal(model.metadata['hnet.train.best_epoch'], String(summary.history.find((h) => h.validationAccuracy === best)!.epoch));
  assert.ok(summary.testAccuracy! > 0.9, `test accuracy ${summary.testAccuracy}`);
  assert.equal((await evaluate(model, testSet)).accuracy, summary.testAccuracy);
});

test('training leaves no tensors behind', async () => {
  const student = mlp(12, 8, 4, 1 / 2, new Rng(13));
  const tfjs = { ...quiet, engine: 'tfjs' } as const;
  await train(student, trainSet, { ...tfjs, epochs: 1 }); // warm-up: kernels may cache constants
  const before = tf.memory().numTensors;
  const { model: teacher } = await train(student, trainSet, { ...tfjs, epochs: 1, optimizer: 'adam', validation: 0.2 });
  await train(student, trainSet, { ...tfjs, epochs: 1, teacher, dropout: 0.5, test: testSet });
  assert.equal(tf.memory().numTensors, before);
});

test('the same seed repeats a run exactly; another seed does not', async () => {
  const student = mlp(12, 16, 4, 1 / 4, new Rng(9)); // built once: each mlp() draws new hash seeds
  const run = async (seed: number) =>
    (await train(student, trainSet, { ...quiet, epochs: 2, batchSize: 32, dropout: 0.3, init: 'scratch', seed })).model;
  assert.deepEqual(firstBuckets(await run(5)), firstBuckets(await run(5)));
  assert.notDeepEqual(firstBuckets(await run(5)), firstBuckets(await run(6)));
});

test("a float16 student is written back in float16, and 'project' starts from its stored values", async () => {
  const student = mlp(12, 16, 4, 1 / 4, new Rng(10));
  const op = student.nodes[0].op as Extract<Model['nodes'][0]['op'], { type: 'Dense' }>;
  op.weight = { ...op.weight, values: { dtype: 'float16', data: Uint16Array.from(valuesToFloat32(op.weight.values), () => 0x3c00) } };
  const graph = new TrainableGraph(student);
  assert.ok(graph.params[0].variable.dataSync().every((v) => v === 1), 'project init keeps the stored buckets');
  graph.dispose();
  const { model } = await train(student, trainSet, { ...quiet, epochs: 1 });
  const w = (model.nodes[0].op as typeof op).weight;
  assert.equal(w.values.dtype, 'float16');
  assert.deepEqual(w.hash, op.weight.hash);
});

test('bad requests are typed errors that say what is wrong', async () => {
  const student = mlp(12, 8, 4, 1 / 2, new Rng(11));
  await assert.rejects(train(student, { ...trainSet, y: null }, quiet), (e: unknown) => e instanceof TrainError && /no labels and no teacher/.test(e.message));
  await assert.rejects(train(student, blobs(10, 5, 2, 1), quiet), (e: unknown) => e instanceof TrainError && e.code === 'data' && /\[5\]/.test(e.message));
  await assert.rejects(train(student, trainSet, { ...quiet, alpha: 0.5 }), (e: unknown) => e instanceof TrainError && /needs a teacher/.test(e.message));
  await assert.rejects(train(student, trainSet, { ...quiet, learningRate: 1e6, epochs: 3 }), (e: unknown) => e instanceof TrainError && /training diverges/.test(e.message));
  await assert.rejects(train(student, trainSet, { ...quiet, engine: 'ort', backend: 'wasm' }), (e: unknown) => e instanceof TrainError && /needs engine 'tfjs'/.test(e.message));
});

test('the tfjs engine on the WASM backend matches the CPU backend', async () => {
  const student = mlp(12, 16, 4, 1 / 4, new Rng(12));
  const run = async (backend: 'cpu' | 'wasm') =>
    (await train(student, trainSet, { ...quiet, backend, epochs: 2, batchSize: 40, seed: 1 })).model; // a backend selects the tfjs engine
  const onWasm = await run('wasm');
  const onCpu = await run('cpu');
  const a = firstBuckets(onWasm);
  const b = firstBuckets(onCpu);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-3, `bucket ${i}: ${a[i]} vs ${b[i]}`);
});

test('train and evaluate refuse labels outside the output width and data with no examples to train on (no NaN accuracy)', async () => {
  const student = mlp(4, 6, 3, 1, new Rng(5));
  const data = blobs(20, 4, 3, 6);
  const bad: Dataset = { ...data, y: Int32Array.from(data.y!, (v, i) => (i === 7 ? 42 : v)), labelsFile: 'labels.npy' };
  const classes = /labels\.npy: label 7 is 42, but the model's output "y" has 3 classes/;
  await assert.rejects(train(student, bad, { epochs: 1, quiet: true }), (e: unknown) => e instanceof TrainError && classes.test(e.message));
  await assert.rejects(evaluate(student, bad), classes);
  const empty: Dataset = { x: new Float32Array(0), y: new Int32Array(0), shape: [4], count: 0 };
  await assert.rejects(train(student, empty, { epochs: 1, quiet: true }), /training data: no examples/);
  await assert.rejects(evaluate(student, empty), /data: no examples/);
  const one: Dataset = { x: data.x.slice(0, 4), y: data.y!.slice(0, 1), shape: [4], count: 1 };
  await assert.rejects(train(student, one, { epochs: 1, quiet: true, validation: 0.1 }), /1 example\(s\) leave none to train on/);
});
