// Cost of a hashed epoch against a dense epoch of the same virtual size
// (784-1000-10), measured with train() itself and interleaved (dense, 1/8,
// 1/64, dense, ...) so that load from other processes hits all alike.
//
//   node --import tsx bench/train/epoch-cost.ts [--examples 6000] [--rounds 3] [--batch 100]

import { hashedWeight, plainWeight, type Model, type Weight } from '@hnet/format';
import { loadIdxDir, selectBackend, sliceDataset, train } from '@hnet/train';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const examples = Number(args.get('examples') ?? 6000);
const rounds = Number(args.get('rounds') ?? 3);
const batchSize = Number(args.get('batch') ?? 100);

function mlp(ratio: number): Model {
  const layer = (rows: number, cols: number, seed: number): Weight =>
    ratio >= 1
      ? plainWeight(new Float32Array(rows * cols), [rows, cols])
      : hashedWeight(new Float32Array(rows * cols), [rows, cols], { algorithm: 'xxh32', bucketSeed: seed, signSeed: seed + 1 }, Math.round(rows * cols * ratio));
  return {
    inputs: [{ name: 'x', shape: [-1, 784] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes: [
      { name: 'fc1', op: { type: 'Dense', weight: layer(1000, 784, 10), bias: plainWeight(new Float32Array(1000), [1000]) }, inputs: ['x'], outputs: ['h'] },
      { name: 'relu', op: { type: 'Relu' }, inputs: ['h'], outputs: ['a'] },
      { name: 'fc2', op: { type: 'Dense', weight: layer(10, 1000, 20), bias: plainWeight(new Float32Array(10), [10]) }, inputs: ['a'], outputs: ['y'] },
    ],
    metadata: {},
  };
}

const backend = await selectBackend((args.get('backend') as 'wasm' | 'cpu' | undefined) ?? undefined);
const data = sliceDataset(loadIdxDir('/usr/share/datasets/fashion-mnist').train, 0, examples);
const configs: [string, number][] = [['dense', 1], ['hash8', 1 / 8], ['hash64', 1 / 64]];
const seconds = new Map<string, number[]>(configs.map(([c]) => [c, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, ratio] of configs) {
    const { summary } = await train(mlp(ratio), data, { epochs: 1, batchSize, learningRate: 0.01, init: 'scratch', normalization: { scale: 1 / 255, mean: [0.286], std: [0.353] }, quiet: true });
    seconds.get(name)!.push(summary.secondsPerEpoch);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const dense = median(seconds.get('dense')!);
console.log(`backend ${backend}, ${examples} examples, batch ${batchSize}, ${rounds} rounds (median):`);
for (const [name] of configs) {
  const s = median(seconds.get(name)!);
  console.log(`${name.padEnd(7)} ${s.toFixed(2)} s/epoch  (${(s * 60000 / examples).toFixed(1)} s per 60k)  ratio to dense ${(s / dense).toFixed(2)}  [${seconds.get(name)!.map((v) => v.toFixed(2)).join(', ')}]`);
}
