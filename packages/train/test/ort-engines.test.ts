// The ort engine against the tfjs engine (the oracle) and against finite
// differences, on random models that use every op of the format, every
// bucket dtype, hashed and plain weights, signed and unsigned hashes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { runReference, type DType, type Model } from '@hnet/format';
import { randomArray, rng } from '@hnet/format/testing';
import { selectBackend } from '../src/backend.js';
import { createEngine } from '../src/engines.js';
import { ADAM, type Batch, type EngineOptions, type LossSpec, type OptimizerSpec, type StepResult } from '../src/engine.js';
import { trainableParams } from '../src/params.js';
import { Rng } from '../src/rng.js';
import { train } from '../src/train.js';
import { blobs, mlp, relativeError, withBlockHashing } from './helpers.js';
import { convZoo, denseZoo, sequenceZoo11, visionZoo11 } from './ort-models.js';

before(async () => {
  await selectBackend('cpu', null);
});

const DTYPES: DType[] = ['float32', 'float16', 'int8', 'int4'];
const ZOO = [
  { name: 'dense zoo', make: denseZoo, inputs: 10, classes: 5 },
  { name: 'conv zoo', make: convZoo, inputs: 72, classes: 3 },
  { name: '1.1 vision zoo', make: visionZoo11, inputs: 72, classes: 3 },
  { name: '1.1 sequence zoo', make: sequenceZoo11, inputs: 24, classes: 4 },
];
const CE: LossSpec = { alpha: 1, temperature: 1 };
const DISTILL: LossSpec = { alpha: 0, temperature: 3 };
const MIXED: LossSpec = { alpha: 0.3, temperature: 2 };
const SGD: OptimizerSpec = { name: 'sgd', momentum: 0.9, nesterov: false };
const NESTEROV: OptimizerSpec = { name: 'sgd', momentum: 0.8, nesterov: true };
const PLAIN_SGD: OptimizerSpec = { name: 'sgd', momentum: 0, nesterov: false };
const ADAM_SPEC: OptimizerSpec = { name: 'adam', ...ADAM };

function randomBatch(random: () => number, count: number, inputs: number, classes: number): Batch {
  return {
    count,
    x: randomArray(random, count * inputs, 1.5),
    labels: Int32Array.from({ length: count }, () => Math.floor(random() * classes)),
    teacher: randomArray(random, count * classes, 3),
  };
}


async function bothEngines(model: Model, options: EngineOptions) {
  return Promise.all([createEngine('ort', model, { ...options, threads: 1 }), createEngine('tfjs', model, options)]);
}

test('ort logits equal the format reference forward (every op, every dtype)', async () => {
  for (const zoo of ZOO) {
    for (const dtype of DTYPES) {
      const model = zoo.make(rng(1), dtype, true);
      const batch = randomBatch(rng(2), 7, zoo.inputs, zoo.classes);
      const engine = await createEngine('ort', model, { threads: 1 });
      const ours = await engine.logits(batch.x, batch.count);
      await engine.dispose();
      const out = runReference(model, { x: { shape: [7, zoo.inputs], data: batch.x } });
      let ref = out[model.outputs[0].name].data;
      if (zoo.name === 'dense zoo') ref = runReference({ ...model, nodes: model.nodes.slice(0, -1), outputs: [{ name: 'logits', shape: [-1, 5] }] }, { x: { shape: [7, 10], data: batch.x } }).logits.data;
      assert.ok(relativeError(ours, Float32Array.from(ref)) < 1e-5, `${zoo.name} ${dtype}: ${relativeError(ours, Float32Array.from(ref))}`);
    }
  }
});

test('ort and tfjs gradients agree (1e-4 of the largest), for CE, distillation and both, every op and dtype, signed and unsigned', async () => {
  let worst = 0;
  for (const zoo of ZOO) {
    for (const dtype of DTYPES) {
      for (const signed of [true, false]) {
        for (const loss of [CE, DISTILL, MIXED]) {
          const model = zoo.make(rng(3), dtype, signed);
          const batch = randomBatch(rng(4), 6, zoo.inputs, zoo.classes);
          const [ort, tfjs] = await bothEngines(model, { loss, weightDecay: 0.01 });
          const a = await ort.gradients(batch);
          const b = await tfjs.gradients(batch);
          assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, Math.abs(b.loss)), `${zoo.name} ${dtype} loss ${a.loss} vs ${b.loss}`);
          a.grads.forEach((g, k) => {
            const e = relativeError(g, b.grads[k]);
            worst = Math.max(worst, e);
            assert.ok(e < 1e-4, `${zoo.name} ${dtype} signed=${signed} alpha=${loss.alpha} param ${k}: relative error ${e}`);
          });
          await ort.dispose();
          await tfjs.dispose();
        }
      }
    }
  }
  console.log(`worst relative gradient difference ort vs tfjs: ${worst.toExponential(2)}`);
});

test('block-hashed weights: ort logits equal the reference forward, and ort and tfjs gradients agree (every op and dtype; xxh32-block Z = 4 and 32, xxh32-aligned-block Z = 8 and 64)', async () => {
  for (const zoo of ZOO) {
    for (const dtype of DTYPES) {
      for (const [algorithm, block] of [['xxh32-block', 4], ['xxh32-block', 32], ['xxh32-aligned-block', 8], ['xxh32-aligned-block', 64]] as const) {
        const model = withBlockHashing(zoo.make(rng(5), dtype, true), block, algorithm);
        const batch = randomBatch(rng(6), 6, zoo.inputs, zoo.classes);
        const [ort, tfjs] = await bothEngines(model, { loss: MIXED });
        const logits = await ort.logits(batch.x, batch.count);
        const logitsNode = zoo.name === 'dense zoo' ? model.nodes.length - 1 : model.nodes.length;
        const graph = { ...model, nodes: model.nodes.slice(0, logitsNode), outputs: [{ name: model.nodes[logitsNode - 1].outputs[0], shape: [-1, zoo.classes] }] };
        const ref = runReference(graph, { x: { shape: [6, zoo.inputs], data: batch.x } })[graph.outputs[0].name].data;
        assert.ok(relativeError(logits, Float32Array.from(ref)) < 1e-5, `${zoo.name} ${dtype} ${algorithm} Z=${block} logits: ${relativeError(logits, Float32Array.from(ref))}`);
        const a = await ort.gradients(batch);
        const b = await tfjs.gradients(batch);
        a.grads.forEach((g, k) => {
          const e = relativeError(g, b.grads[k]);
          assert.ok(e < 1e-4, `${zoo.name} ${dtype} ${algorithm} Z=${block} param ${k}: relative error ${e}`);
        });
        await ort.dispose();
        await tfjs.dispose();
      }
    }
  }
});

// Per-parameter rate factors (train() gives hashed tensors 1/√load): unit, or a different factor per parameter.
const FACTOR_CYCLE = [0.25, 1, 0.6];
const UPDATE_CASES = [
  { weightDecay: 0, factors: false },
  { weightDecay: 0.05, factors: false },
  { weightDecay: 0.05, factors: true },
  { weightDecay: 0, factors: true },
];

test('ort and tfjs updates agree over four steps with an optimiser reset before the last (1e-4 of the largest change, plus float32 rounding): SGD, momentum, nesterov, Adam, weight decay, per-parameter rate factors', async () => {
  let worst = 0;
  for (const zoo of ZOO) {
    for (const optimizer of [PLAIN_SGD, SGD, NESTEROV, ADAM_SPEC]) {
      for (const { weightDecay, factors } of UPDATE_CASES) {
        const model = zoo.make(rng(5), 'float16', true);
        const random = rng(6);
        const rateFactors = factors ? trainableParams(model).map((_, k) => FACTOR_CYCLE[k % FACTOR_CYCLE.length]) : undefined;
        const [ort, tfjs] = await bothEngines(model, { loss: MIXED, optimizer, weightDecay, rateFactors });
        const start = ort.snapshot();
        for (let s = 0; s < 4; s++) {
          // After a divergence train() resets the optimiser: momentum and Adam's moments and step count start again.
          if (s === 3) {
            ort.resetOptimizer();
            tfjs.resetOptimizer();
          }
          const batch = randomBatch(random, 5 + s, zoo.inputs, zoo.classes); // a different batch size each step
          const ra = await ort.step(batch, 0.05);
          const rb = await tfjs.step(batch, 0.05);
          assert.ok(Math.abs(ra.loss - rb.loss) <= 1e-4 * Math.max(1, rb.loss), `step ${s} loss ${ra.loss} vs ${rb.loss}`);
          assert.equal(ra.hits, rb.hits);
        }
        const a = ort.snapshot();
        const b = tfjs.snapshot();
        // Each engine rounds its float32 values after every step: two ulps of
        // the largest value on top of 1e-4 of the largest change.
        a.forEach((v, k) => {
          const db = b[k].map((x, i) => x - start[k][i]);
          const largest = Math.max(...start[k].map(Math.abs));
          const rounding = 2 * 2 ** (Math.floor(Math.log2(largest)) - 23);
          const scale = Math.max(...db.map(Math.abs));
          let diff = 0;
          v.forEach((x, i) => (diff = Math.max(diff, Math.abs(x - b[k][i]))));
          worst = Math.max(worst, Math.max(0, diff - rounding) / scale);
          assert.ok(diff <= 1e-4 * scale + rounding, `${zoo.name} ${optimizer.name}${'nesterov' in optimizer && optimizer.nesterov ? ' nesterov' : ''} decay ${weightDecay}${factors ? ' rate factors' : ''} param ${k}: ${diff} (largest change ${scale})`);
        });
        await ort.dispose();
        await tfjs.dispose();
      }
    }
  }
  console.log(`worst update difference ort vs tfjs beyond rounding, relative to the largest change: ${worst.toExponential(2)}`);
});

test('a rate factor scales that parameter\'s plain SGD step: w − lr·factor·grad, on both engines', async () => {
  const model = denseZoo(rng(7), 'float32', true);
  const rateFactors = trainableParams(model).map((_, k) => FACTOR_CYCLE[k % FACTOR_CYCLE.length]);
  const batch = randomBatch(rng(8), 6, 10, 5);
  for (const name of ['ort', 'tfjs'] as const) {
    const engine = await createEngine(name, model, { loss: CE, optimizer: PLAIN_SGD, rateFactors, ...(name === 'ort' ? { threads: 1 } : {}) });
    const before = engine.snapshot();
    const { grads } = await engine.gradients(batch);
    await engine.step(batch, 0.1);
    engine.snapshot().forEach((v, k) => {
      const largest = Math.max(...grads[k].map((g) => Math.abs(0.1 * rateFactors[k] * g)));
      v.forEach((x, i) => {
        const want = before[k][i] - 0.1 * rateFactors[k] * grads[k][i];
        assert.ok(Math.abs(x - want) <= 1e-4 * largest + 1e-6, `${name} param ${k}[${i}]: ${x} vs ${want}`);
      });
    });
    await engine.dispose();
  }
});

// Finite differences in float32: each loss value is rounded to its ulp
// (2⁻²³·2^⌊log2 L⌋, ~2.4e-7 for L in [2, 4)), so a central difference with step
// h = 1e-3 carries noise up to ~4 ulp / 2h (~5e-4); the truncation error
// h²·|f'''| is far below that. The models are the smooth variants (Sigmoid for
// Relu/LeakyRelu, whose kinks a step can cross; their backward is held to
// tfjs above); MaxPool stays, its windows hold no near-ties.
// Allowed: 1e-2 of the parameter's largest gradient plus that noise bound —
// still tight enough to catch a wrong sign, scale or index.
test('both engines\' gradients agree with central finite differences (float32, 1e-2 of the largest, several coordinates per parameter)', async () => {
  for (const name of ['ort', 'tfjs'] as const) {
  for (const zoo of ZOO) {
    for (const loss of [CE, MIXED]) {
      const model = zoo.make(rng(7), 'float32', true, true);
      const batch = randomBatch(rng(8), 6, zoo.inputs, zoo.classes);
      const engine = await createEngine(name, model, { loss, threads: 1 });
      const { grads } = await engine.gradients(batch);
      const start = engine.snapshot();
      for (let k = 0; k < grads.length; k++) {
        const scale = Math.max(...grads[k].map(Math.abs));
        // the three largest coordinates and two others
        const order = [...grads[k].keys()].sort((i, j) => Math.abs(grads[k][j]) - Math.abs(grads[k][i]));
        const picks = [...order.slice(0, 3), order[Math.floor(order.length / 2)], order.at(-1)!];
        for (const i of new Set(picks)) {
          const h = 1e-3;
          const at = async (delta: number) => {
            const values = start.map((v) => Float32Array.from(v));
            values[k][i] += delta;
            engine.restore(values);
            return (await engine.gradients(batch)).loss;
          };
          const [up, down] = [await at(h), await at(-h)];
          const fd = (up - down) / (2 * h);
          const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(up), Math.abs(down)))) - 23);
          assert.ok(Math.abs(fd - grads[k][i]) <= 1e-2 * scale + (4 * ulp) / (2 * h), `${name} ${zoo.name} alpha ${loss.alpha} param ${k}[${i}]: finite difference ${fd} vs ${grads[k][i]} (largest ${scale})`);
        }
      }
      await engine.dispose();
    }
  }
  }
});

test('a few ort steps lower the loss on a fixed batch, for every optimiser', async () => {
  for (const zoo of ZOO) {
    for (const optimizer of [SGD, NESTEROV, ADAM_SPEC]) {
      const engine = await createEngine('ort', zoo.make(rng(9), 'float32', true), { loss: CE, optimizer, threads: 1 });
      const batch = randomBatch(rng(10), 16, zoo.inputs, zoo.classes);
      const first = (await engine.step(batch, optimizer.name === 'adam' ? 0.01 : 0.1)).loss;
      let last = first;
      for (let s = 0; s < 30; s++) last = (await engine.step(batch, optimizer.name === 'adam' ? 0.01 : 0.1)).loss;
      assert.ok(last < 0.95 * first, `${zoo.name} ${optimizer.name}: loss ${first} → ${last}`);
      await engine.dispose();
    }
  }
});

test('ort steps(): four steps in one graph give the losses, hits and values of four step() calls (distillation, dropout, every optimiser, weight decay, rate factors)', async () => {
  for (const zoo of ZOO) {
    for (const optimizer of [SGD, NESTEROV, ADAM_SPEC]) {
      const model = zoo.make(rng(13), 'float16', true);
      const rateFactors = trainableParams(model).map((_, k) => (k % 2 ? 0.5 : 1));
      const options: EngineOptions = { loss: MIXED, optimizer, weightDecay: 1e-3, rateFactors, dropout: 0.2, threads: 1 };
      const [one, four] = await Promise.all([createEngine('ort', model, { ...options, rng: new Rng(5) }), createEngine('ort', model, { ...options, rng: new Rng(5) })]);
      assert.ok(four.stepsPerRun >= 4, `stepsPerRun ${four.stepsPerRun}`);
      const random = rng(14);
      const batches = Array.from({ length: 4 }, () => randomBatch(random, 6, zoo.inputs, zoo.classes));
      const rates = [0.05, 0.04, 0.03, 0.02].map((r) => (optimizer.name === 'adam' ? r / 10 : r));
      const single: StepResult[] = [];
      for (let t = 0; t < 4; t++) single.push(await one.step(batches[t], rates[t]));
      const together = await four.steps(batches, rates);
      const what = `${zoo.name} ${optimizer.name}${'nesterov' in optimizer && optimizer.nesterov ? ' nesterov' : ''}`;
      together.forEach((r, t) => {
        assert.ok(Math.abs(r.loss - single[t].loss) <= 1e-6 * Math.abs(single[t].loss), `${what} step ${t}: loss ${r.loss} vs ${single[t].loss}`);
        assert.equal(r.hits, single[t].hits, `${what} step ${t}: hits`);
      });
      const [a, b] = [four.snapshot(), one.snapshot()];
      a.forEach((v, k) => assert.ok(relativeError(v, b[k]) <= 1e-6, `${what} param ${k}: ${relativeError(v, b[k])}`));
      await Promise.all([one.dispose(), four.dispose()]);
    }
  }
});

test('ort dropout: seeded masks repeat a run exactly and change it from the undropped one', async () => {
  const model = denseZoo(rng(11), 'float32', true);
  const batch = randomBatch(rng(12), 8, 10, 5);
  const run = async (dropout: number, seed: number) => {
    const engine = await createEngine('ort', model, { dropout, rng: new Rng(seed), threads: 1 });
    const losses = [];
    for (let s = 0; s < 3; s++) losses.push((await engine.step(batch, 0.1)).loss);
    await engine.dispose();
    return losses;
  };
  assert.deepEqual(await run(0.5, 1), await run(0.5, 1));
  assert.notDeepEqual(await run(0.5, 1), await run(0.5, 2));
  assert.notDeepEqual(await run(0.5, 1), await run(0, 1));
});

test('train() through either engine reaches close accuracy on a tiny set', async () => {
  const trainSet = blobs(400, 12, 4, 1);
  const testSet = blobs(200, 12, 4, 2);
  const student = mlp(12, 32, 4, 1 / 4, new Rng(3), true);
  const options = { quiet: true, epochs: 8, batchSize: 20, learningRate: 0.05, init: 'scratch', seed: 7, test: testSet, validation: 0.2 } as const;
  const viaOrt = await train(student, trainSet, { ...options, engine: 'ort', threads: 1 });
  const viaTfjs = await train(student, trainSet, { ...options, engine: 'tfjs' });
  assert.equal(viaOrt.summary.engine, 'ort');
  assert.match(viaOrt.model.metadata['hnet.train.backend'], /^ort \(onnxruntime-node [\d.]+, 1 thread\)$/);
  assert.equal(viaTfjs.summary.engine, 'tfjs');
  assert.ok(viaOrt.summary.testAccuracy! > 0.9 && viaTfjs.summary.testAccuracy! > 0.9);
  assert.ok(Math.abs(viaOrt.summary.testAccuracy! - viaTfjs.summary.testAccuracy!) <= 0.02, `${viaOrt.summary.testAccuracy} vs ${viaTfjs.summary.testAccuracy}`);
  viaOrt.summary.history.forEach((h, e) => assert.ok(Math.abs(h.loss - viaTfjs.summary.history[e].loss) < 1e-3, `epoch ${e + 1}: loss ${h.loss} vs ${viaTfjs.summary.history[e].loss}`));
});

test('train() prints the engine and its threads first', async () => {
  const lines: string[] = [];
  await train(mlp(12, 8, 4, 1 / 2, new Rng(13)), blobs(40, 12, 4, 3), { epochs: 1, threads: 2, progress: { write: (t: string) => lines.push(t) } });
  assert.match(lines[0], /^hnet train: engine ort \(onnxruntime-node [\d.]+, 2 threads\);/);
});
