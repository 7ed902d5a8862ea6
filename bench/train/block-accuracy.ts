// Accuracy of block hashing (issue 14, part 1): per-element xxh32 against
// xxh32-block at several Z (and xxh32-aligned-block, format 1.2, as aN), same training for every config, on Fashion-MNIST,
// for 784-1000-10 and the LeNet-5-style CNN of bench/runtime/models.ts (the
// models the runtime bench times) at 1/8 and 1/64. Test accuracy is the
// mean over training seeds (init and shuffle; the hash seeds are the models').
// Not timing-sensitive: runs on a busy machine give the same numbers.
//
//   node --import tsx bench/train/block-accuracy.ts [--epochs 10] [--seeds 1,2] [--models mlp,lenet]
//        [--compressions 8,64] [--blocks none,4,8,16,32,a32,a] [--threads 1] [--train 60000] [--out bench/out/block-accuracy.json]
//        [--merge earlier.json]   (adds the rows of an earlier run, e.g. other seeds, to the table and the output;
//                                  with --seeds none it only prints that file's table)
//
// Prints the markdown table of docs/RESULTS.md ("Block hashing").

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Model } from '@hnet/format';
import { loadIdxDir, sliceDataset, train, type TrainOptions } from '@hnet/train';
import { blockLabel, lenet, mlp, type BlockChoice } from '../runtime/models.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const list = (name: string, fallback: string): string[] => (args.get(name) ?? fallback).split(',');
const epochs = Number(args.get('epochs') ?? 10);
const seeds = args.get('seeds') === 'none' ? [] : list('seeds', '1,2').map(Number); // none: only print the --merge file's table
const models = list('models', 'mlp,lenet');
const compressions = list('compressions', '8,64').map(Number);
// none: per element; Z: xxh32-block; aZ: xxh32-aligned-block, a: with the converter's Z per layer
const blocks: BlockChoice[] = list('blocks', 'none,4,8,16,32').map((b) =>
  b === 'none' ? null : b === 'a' ? { aligned: 'per layer' } : b.startsWith('a') ? { aligned: Number(b.slice(1)) } : Number(b));
const out = args.get('out') ?? 'bench/out/block-accuracy.json';

// The training of bench/train/fashion-mnist.ts (docs/results/TRAINING.md), on one thread.
const common: TrainOptions = {
  engine: 'ort',
  threads: Number(args.get('threads') ?? 1),
  epochs,
  batchSize: 100,
  optimizer: 'sgd',
  learningRate: 0.01,
  momentum: 0.9,
  nesterov: true,
  schedule: 'cosine',
  init: 'scratch',
  normalization: { scale: 1 / 255, mean: [0.286], std: [0.353] },
  dataSource: 'idx:/usr/share/datasets/fashion-mnist',
  quiet: true,
};

const BUILDERS: Record<string, (compression: number, block: BlockChoice) => Model> = { mlp, lenet };
const splits = loadIdxDir('/usr/share/datasets/fashion-mnist');
const data = sliceDataset(splits.train, 0, Math.min(Number(args.get('train') ?? 60000), splits.train.count));
console.error(`fashion-mnist: ${data.count} train, ${splits.test!.count} test; ${epochs} epochs; seeds ${seeds.join(',')}`);

interface Row { model: string; compression: number; block: BlockChoice; seed: number; testAccuracy: number; secondsPerEpoch: number }
const merged = args.get('merge');
const rows: Row[] = merged ? (JSON.parse(readFileSync(merged, 'utf8')) as { rows: Row[] }).rows : [];
for (const seed of seeds) {
  for (const name of models) {
    const build = BUILDERS[name] ?? (() => { throw new Error(`unknown model '${name}' (mlp, lenet)`); })();
    for (const compression of compressions) {
      for (const block of blocks) {
        const r = await train(build(compression, block), data, { ...common, seed, test: splits.test! });
        const row = { model: name, compression, block, seed, testAccuracy: r.summary.testAccuracy!, secondsPerEpoch: r.summary.secondsPerEpoch };
        rows.push(row);
        console.error(`RESULT ${JSON.stringify(row)}`);
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out + '.tmp', JSON.stringify({ options: common, rows }, null, 2));
        renameSync(out + '.tmp', out);
      }
    }
  }
}

const pct = (x: number): string => (x * 100).toFixed(2);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const accuracy = (model: string, compression: number, block: BlockChoice): number[] =>
  rows.filter((r) => r.model === model && r.compression === compression && blockLabel(r.block) === blockLabel(block)).map((r) => r.testAccuracy);
const heading = (b: BlockChoice): string => (typeof b === 'number' ? `Z = ${b}` : b === null ? 'per-element' : b.aligned === 'per layer' ? 'aligned, Z per layer' : `aligned Z = ${b.aligned}`);
console.log(`| model | per-element | ${blocks.filter((b) => b !== null).map(heading).join(' | ')} |`);
console.log(`|---|---:|${blocks.filter((b) => b !== null).map(() => '---:').join('|')}|`);
const present = <T>(key: (r: Row) => T): T[] => [...new Set(rows.map(key))];
for (const name of present((r) => r.model)) {
  for (const compression of present((r) => r.compression).sort((a, b) => a - b)) {
    if (!rows.some((r) => r.model === name && r.compression === compression)) continue;
    const base = mean(accuracy(name, compression, null));
    const cells = blocks.filter((b) => b !== null).map((b) => {
      const a = mean(accuracy(name, compression, b));
      return `${pct(a)}% (${a >= base ? '+' : '−'}${Math.abs((a - base) * 100).toFixed(2)})`;
    });
    const each = accuracy(name, compression, null).map(pct).join(', ');
    console.log(`| ${name} 1/${compression} | ${pct(base)}% (${each}) | ${cells.join(' | ')} |`);
  }
}
