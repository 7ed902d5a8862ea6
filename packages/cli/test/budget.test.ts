// The allocation of the budget search (budget.ts): the Pareto front over the
// layers' options against a brute-force enumeration, and the drops made monotone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashModel, importOnnx } from '@hnet/convert';
import { rng } from '@hnet/format/testing';
import { fixture } from '../../convert/test/helpers.js';
import { allocationPolicy, denseOption, hashedOptions, monotoneDrops, paretoFront, type LayerOption } from '../src/budget.js';

const option = (layer: string, bytes: number, drop: number): LayerOption => ({ layer, virtual: 1000, buckets: bytes, dtype: 'int8', bytes, drop });

test('the Pareto front holds, for every size, the least total drop of any combination within it', () => {
  const random = rng(5);
  for (let trial = 0; trial < 20; trial++) {
    const layers = Array.from({ length: 3 }, (_, l) => Array.from({ length: 4 }, () => option(`l${l}`, 1 + Math.floor(random() * 50), Math.round(random() * 100) / 10)));
    const front = paretoFront(layers);
    for (let i = 1; i < front.length; i++) {
      assert.ok(front[i].bytes > front[i - 1].bytes && front[i].drop < front[i - 1].drop, 'sorted by bytes, each with less drop');
    }
    // Brute force: all 4^3 combinations.
    for (let budget = 3; budget <= 150; budget += 7) {
      let best = Infinity;
      for (const a of layers[0]) for (const b of layers[1]) for (const c of layers[2]) {
        if (a.bytes + b.bytes + c.bytes <= budget) best = Math.min(best, a.drop + b.drop + c.drop);
      }
      const fits = front.filter((f) => f.bytes <= budget);
      const got = fits.length ? fits[fits.length - 1].drop : Infinity;
      assert.ok(Math.abs(got - best) < 1e-9 || got === best, `trial ${trial}, budget ${budget}: front ${got}, brute force ${best}`);
      if (fits.length) assert.deepStrictEqual(fits[fits.length - 1].options.map((o) => o.layer), ['l0', 'l1', 'l2']);
    }
  }
});

test('fewer buckets never cost less than more of the same dtype, and no drop is negative', () => {
  const measured = [option('a', 400, 0.5), option('a', 200, -0.3), option('a', 100, 2), option('a', 50, 1.5)];
  const fixed = monotoneDrops(measured);
  assert.deepStrictEqual(fixed.map((o) => [o.bytes, o.drop]), [[400, 0.5], [200, 0.5], [100, 2], [50, 2]]);
});

test('a layer\'s options: dense (float32 or int8), then int8 and int4 at the same halving sizes from a sixteenth of its float32 bytes', () => {
  const c = { layer: 'fc', virtual: 4000, hashable: true };
  assert.deepStrictEqual(denseOption(c), { layer: 'fc', virtual: 4000, buckets: null, dtype: 'float32', bytes: 16000, drop: 0 });
  assert.deepStrictEqual(denseOption(c, 'int8'), { layer: 'fc', virtual: 4000, buckets: null, dtype: 'int8', bytes: 4016, drop: 0 });
  const options = hashedOptions(c);
  assert.deepStrictEqual(options.map((o) => [o.dtype, o.buckets, o.bytes]), [
    ['int8', 1000, 1048], ['int4', 2000, 1048], ['int8', 500, 548], ['int4', 1000, 548],
    ['int8', 250, 298], ['int4', 500, 298], ['int8', 125, 173], ['int4', 250, 173],
  ]);
});

test('an allocation becomes a policy: dense layers in their dtype, hashed ones with their K and dtype, biases as the base says', () => {
  const options: LayerOption[] = [
    { ...denseOption({ layer: '/conv1/Conv', virtual: 150, hashable: false }, 'int8') },
    { layer: '/fc1/Gemm', virtual: 48000, buckets: 1000, dtype: 'int4', bytes: 548, drop: 1 },
    denseOption({ layer: '/fc3/Gemm', virtual: 840, hashable: true }),
  ];
  const base = { hash: 'xxh32' as const, block: null, seed: 3, signed: true, biasDtype: 'int8' as const, denseDtype: null, strip: false };
  const policy = allocationPolicy({ options, bytes: 0, drop: 0 }, base);
  assert.deepStrictEqual(policy.dense, ['/conv1/Conv', '/fc3/Gemm']);
  assert.deepStrictEqual(policy.buckets, { '/fc1/Gemm': 1000 });
  assert.deepStrictEqual(policy.dtypes, { '/conv1/Conv': 'int8', '/fc1/Gemm': 'int4', '/fc3/Gemm': 'float32' });
  const { report } = hashModel(importOnnx(fixture('lenet.onnx')).model, policy);
  const stored = Object.fromEntries(report.weights.map((w) => [`${w.layer} ${w.part}`, `${w.hashed ? w.real : 'dense'} ${w.dtype}`]));
  assert.equal(stored['/conv1/Conv weight'], 'dense int8');
  assert.equal(stored['/fc1/Gemm weight'], '1000 int4');
  assert.equal(stored['/fc3/Gemm weight'], 'dense float32');
  assert.equal(stored['/conv2/Conv weight'], 'dense float32', 'a layer outside the allocation stays as it is');
  assert.ok(report.weights.filter((w) => w.part === 'bias').every((w) => w.dtype === 'int8'));
  // The base's hash function reaches every hashed layer (--hash xxh32-block --block 16 with --target-size).
  const blocked = hashModel(importOnnx(fixture('lenet.onnx')).model, allocationPolicy({ options, bytes: 0, drop: 0 }, { ...base, hash: 'xxh32-block', block: 16 })).model;
  const fc1 = blocked.nodes.find((n) => n.name === '/fc1/Gemm')!.op;
  assert.ok(fc1.type === 'Dense' && fc1.weight.hash?.algorithm === 'xxh32-block');
  assert.equal(fc1.weight.hash.block, 16);
});
