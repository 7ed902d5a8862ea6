// A small study of the distillation settings for HashNet_DK at 1/64 (784-1000-10),
// scored on held-out training examples (never the test set): trains on the
// first --train examples, validates on the last 10,000 of the 60,000.
//
//   node --import tsx bench/train/dk-study.ts --teacher bench/out/dense-teacher-5.json [--train 10000] [--epochs 3]
//        [--variants "0.3/4,0.5/2,0.1/2,0.3/4/project,1/0"]   (alpha/T[/init]; alpha 1 = no teacher)

import { readFileSync } from 'node:fs';
import { hashedWeight, plainWeight, type Model } from '@hnet/format';
import { evaluate, loadIdxDir, selectBackend, sliceDataset, train, type Init } from '@hnet/train';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const teacherPath = args.get('teacher') ?? 'bench/out/dense-teacher-5.json';
const trainCount = Number(args.get('train') ?? 10000);
const epochs = Number(args.get('epochs') ?? 3);
const variants = (args.get('variants') ?? '0.3/4,0.5/2,0.1/2,0.3/4/project,1/0').split(',');
const ratio = 1 / Number(args.get('ratio') ?? 64);

const teacher = JSON.parse(readFileSync(teacherPath, 'utf8'), (_k, v) => (v && v.typed === 'Float32Array' ? Float32Array.from(v.data) : v)) as Model;
const denseOf = (i: number) => (teacher.nodes[i].op as Extract<Model['nodes'][0]['op'], { type: 'Dense' }>).weight;

/** The hashed student; with 'project' its buckets start from the projection of the teacher's weights. */
function student(): Model {
  const layer = (i: number, seed: number) => {
    const w = denseOf(i);
    const dense = w.values.data as Float32Array;
    return hashedWeight(dense, w.shape, { algorithm: 'xxh32', bucketSeed: seed, signSeed: seed + 1 }, Math.round(dense.length * ratio));
  };
  return {
    ...teacher,
    metadata: {},
    nodes: teacher.nodes.map((n, i) =>
      n.op.type === 'Dense' ? { ...n, op: { ...n.op, weight: layer(i, 100 + i), bias: plainWeight(new Float32Array(n.op.bias!.shape[0]), n.op.bias!.shape) } } : n,
    ),
  };
}

await selectBackend();
const all = loadIdxDir('/usr/share/datasets/fashion-mnist').train;
const data = sliceDataset(all, 0, trainCount);
const held = sliceDataset(all, 50000, 10000);
const normalization = { scale: 1 / 255, mean: [0.286], std: [0.353] };
console.log(`teacher ${teacherPath}: held-out accuracy ${(await evaluate(teacher, held)).accuracy.toFixed(4)}`);
for (const v of variants) {
  const [alpha, T, init] = v.split('/');
  const { model } = await train(student(), data, {
    epochs, batchSize: 100, optimizer: 'sgd', learningRate: 0.01, momentum: 0.9, nesterov: true, schedule: 'cosine', seed: 1,
    init: (init as Init | undefined) ?? 'scratch', normalization, quiet: true,
    ...(Number(alpha) < 1 ? { teacher, alpha: Number(alpha), temperature: Number(T) } : {}),
  });
  console.log(`alpha ${alpha} T ${T} init ${init ?? 'scratch'}: held-out accuracy ${(await evaluate(model, held)).accuracy.toFixed(4)}`);
}
