// Fashion-MNIST benchmark of the trainer (issue 4): 784-1000-10 ReLU, same
// epochs and optimiser for every config.
//
//   dense      the full dense net (also the teacher of the *_dk configs)
//   hash8/64   HashNet, both layers hashed to 1/8 or 1/64 of their weights (biases plain)
//   nn8/64     dense net with the hidden width shrunk to the same number of stored parameters
//   dk8/64     HashNet_DK: hashed as hash8/64, distilled from `dense` (labels + soft targets)
//
// Usage (from /work/main):
//   node --import tsx bench/train/fashion-mnist.ts [--epochs 20] [--configs dense,hash8,...]
//        [--train N] [--lr 0.01] [--batch 100] [--dropout 0] [--engine ort|tfjs] [--out bench/out/train.json]
// The teacher of dk* is taken from bench/out/dense-teacher.json when `dense` is not in --configs.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { encode, plainWeight, hashedWeight, type Model, type Weight } from '@hnet/format';
import { loadIdxDir, selectBackend, sliceDataset, train, type EngineName, type TrainOptions, type TrainSummary } from '@hnet/train';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const epochs = Number(args.get('epochs') ?? 20);
const configs = (args.get('configs') ?? 'dense,hash8,hash64,nn8,nn64,dk8,dk64').split(',');
const trainCount = Number(args.get('train') ?? 60000);
const out = args.get('out') ?? 'bench/out/train.json';
const teacherPath = args.get('teacher') ?? 'bench/out/dense-teacher.json';
const engine = (args.get('engine') ?? 'ort') as EngineName;
const common: TrainOptions = {
  engine,
  epochs,
  batchSize: Number(args.get('batch') ?? 100),
  optimizer: 'sgd',
  learningRate: Number(args.get('lr') ?? 0.01),
  momentum: 0.9,
  nesterov: true,
  schedule: 'cosine',
  dropout: Number(args.get('dropout') ?? 0),
  seed: Number(args.get('seed') ?? 1),
  init: 'scratch',
  // Fashion-MNIST pixel statistics; stored in the model metadata.
  normalization: { scale: 1 / 255, mean: 0.286, std: 0.353 },
  dataSource: 'idx:/usr/share/datasets/fashion-mnist',
};

const HIDDEN = 1000;
let seedCounter = 0x9e37;
const nextSeed = () => (seedCounter = (Math.imul(seedCounter, 0x2c1b3c6d) + 0x297a2d39) >>> 0);

/** 784-hidden-10 MLP; ratio < 1 hashes both weight matrices to ratio · virtual size buckets. */
function mlp(hidden: number, ratio: number): Model {
  const layer = (rows: number, cols: number): Weight => {
    const dense = new Float32Array(rows * cols); // values are replaced by the init ('scratch')
    if (ratio >= 1) return plainWeight(dense, [rows, cols]);
    const K = Math.max(1, Math.round(rows * cols * ratio));
    return hashedWeight(dense, [rows, cols], { algorithm: 'xxh32', bucketSeed: nextSeed(), signSeed: nextSeed() }, K);
  };
  return {
    inputs: [{ name: 'x', shape: [-1, 784] }],
    outputs: [{ name: 'logits', shape: [-1, 10] }],
    nodes: [
      { name: 'fc1', op: { type: 'Dense', weight: layer(hidden, 784), bias: plainWeight(new Float32Array(hidden), [hidden]) }, inputs: ['x'], outputs: ['h'] },
      { name: 'relu', op: { type: 'Relu' }, inputs: ['h'], outputs: ['a'] },
      { name: 'fc2', op: { type: 'Dense', weight: layer(10, hidden), bias: plainWeight(new Float32Array(10), [10]) }, inputs: ['a'], outputs: ['logits'] },
    ],
    metadata: {},
  };
}

/** Hidden width of a dense 784-h-10 net with the stored parameter count of the hashed net at `ratio`. */
function equalSizeWidth(ratio: number): number {
  const stored = Math.round(784 * HIDDEN * ratio) + Math.round(10 * HIDDEN * ratio) + HIDDEN + 10;
  return Math.round((stored - 10) / (784 + 1 + 10));
}

// Plain-JSON (de)serialisation of the teacher so that dk* can run in a separate process.
function saveModel(model: Model, path: string): void {
  const json = JSON.stringify(model, (_k, v) => (ArrayBuffer.isView(v) ? { typed: v.constructor.name, data: Array.from(v as Float32Array) } : v));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path + '.tmp', json);
  renameSync(path + '.tmp', path);
}
function loadModel(path: string): Model {
  return JSON.parse(readFileSync(path, 'utf8'), (_k, v) => (v && v.typed === 'Float32Array' ? Float32Array.from(v.data) : v)) as Model;
}

if (engine === 'tfjs') await selectBackend();
const splits = loadIdxDir('/usr/share/datasets/fashion-mnist');
const data = sliceDataset(splits.train, 0, Math.min(trainCount, splits.train.count));
const test = splits.test!;
console.error(`fashion-mnist: ${data.count} train, ${test.count} test; epochs ${epochs}; configs ${configs.join(',')}`);

interface Row { config: string; hidden: number; stored: number; virtual: number; testAccuracy: number; testError: number; secondsPerEpoch: number; epochs: number }
const rows: Row[] = [];
let teacher: Model | null = null;
const modelDir = args.get('models') ?? dirname(out);
const record = (config: string, hidden: number, s: TrainSummary, model: Model) => {
  // The written .hnet, for bench/train/verify-hnet.ts (runReference on the test set).
  const file = `${modelDir}/${config}-e${epochs}.hnet`;
  writeFileSync(file + '.tmp', encode(model));
  renameSync(file + '.tmp', file);
  const row = { config, hidden, stored: s.storedParameters, virtual: s.virtualParameters, testAccuracy: s.testAccuracy!, testError: 1 - s.testAccuracy!, secondsPerEpoch: s.secondsPerEpoch, epochs: s.epochs };
  rows.push(row);
  console.error(`RESULT ${JSON.stringify(row)}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out + '.tmp', JSON.stringify({ options: { ...common, normalization: common.normalization }, trainCount, rows }, null, 2));
  renameSync(out + '.tmp', out);
};

for (const config of configs) {
  const m = /^(dense|hash|nn|dk)(\d*)$/.exec(config);
  if (!m) throw new Error(`unknown config '${config}' (dense, hash8, hash64, nn8, nn64, dk8, dk64)`);
  const ratio = m[2] ? 1 / Number(m[2]) : 1;
  console.error(`\n== ${config} ==`);
  if (m[1] === 'dense') {
    const r = await train(mlp(HIDDEN, 1), data, { ...common, test });
    teacher = r.model;
    saveModel(teacher, teacherPath);
    record(config, HIDDEN, r.summary, r.model);
  } else if (m[1] === 'hash') {
    const r = await train(mlp(HIDDEN, ratio), data, { ...common, test });
    record(config, HIDDEN, r.summary, r.model);
  } else if (m[1] === 'nn') {
    const h = equalSizeWidth(ratio);
    const r = await train(mlp(h, 1), data, { ...common, test });
    record(config, h, r.summary, r.model);
  } else {
    teacher ??= loadModel(teacherPath);
    const alpha = Number(args.get('alpha') ?? 0.3);
    const T = Number(args.get('temperature') ?? 4);
    const r = await train(mlp(HIDDEN, ratio), data, { ...common, test, teacher, alpha, temperature: T });
    record(config, HIDDEN, r.summary, r.model);
  }
}
console.log(JSON.stringify(rows, null, 2));
