// Parity with the reference forward pass of @hnet/format: random models of
// every op and every bucket dtype, both modes, batch 1 and larger, fast and
// naive kernels. Plus an exact check of every virtual weight (bucket index
// and sign) through an identity input.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Model } from '@hnet/format';
import { encode, expandWeight, hashedWeight, runReference, sizeOf } from '@hnet/format';
import { loadModel } from '../src/index.js';
import { assertClose, WASM_PATHS } from './helpers.js';
import { DTYPES, mlpModel, randomArray, randomModel, rng } from './models.js';

const MODES = ['materialized', 'streaming'] as const;
/** Every test runs on the release build and on the debug build (assertions on). */
const BUILDS = ['release', 'debug'] as const;
let WASM: URL = WASM_PATHS.release;
const BATCHES = [1, 4, 7];

async function checkModel(model: Model, seed: number, naive = false): Promise<number> {
  const bytes = encode(model);
  let worst = 0;
  for (const mode of MODES) {
    const m = await loadModel(bytes, { mode, wasm: WASM });
    assert.equal(m.info.mode, mode);
    if (naive) m.abi.exports.hnet_set_naive(1);
    for (const batch of BATCHES) {
      const inputs = Object.fromEntries(model.inputs.map((t, i) => {
        const shape = t.shape.map((d) => (d === -1 ? batch : d));
        return [t.name, { shape, data: randomArray(rng(seed * 31 + batch * 7 + i), sizeOf(shape)) }];
      }));
      const expected = runReference(model, inputs);
      const actual = m.run(inputs);
      for (const t of model.outputs) {
        worst = Math.max(worst, assertClose(actual[t.name], expected[t.name], `seed ${seed}, ${mode}, batch ${batch}, ${t.name}`));
      }
    }
    m.dispose();
  }
  return worst;
}

for (const build of BUILDS) describe(`parity with runReference, ${build} build`, () => {
  before(() => { WASM = WASM_PATHS[build]; });
  it('random models of every op, mixed dtypes, hashed and plain (40 seeds)', async () => {
    let worst = 0;
    for (let seed = 1; seed <= 40; seed++) worst = Math.max(worst, await checkModel(randomModel(seed), seed));
    console.log(`  worst relative error: ${worst.toExponential(2)}`);
  });

  for (const dtype of DTYPES) {
    it(`random models with every weight hashed in ${dtype}`, async () => {
      for (let seed = 100; seed < 110; seed++) await checkModel(randomModel(seed, { dtype, hashed: true }), seed);
    });
    it(`random models with every weight plain in ${dtype}`, async () => {
      for (let seed = 200; seed < 205; seed++) await checkModel(randomModel(seed, { dtype, hashed: false }), seed);
    });
  }

  it('the naive reference kernels agree too', async () => {
    for (let seed = 300; seed < 310; seed++) await checkModel(randomModel(seed), seed, true);
  });

  // xxh32-block: Z = 1 (the per-element map), Z below, at and above the SIMD width, the largest Z;
  // random K, so runs wrap and K < Z occur. The naive twin runs in streaming mode (every run).
  // xxh32-aligned-block (format 1.2): Z a multiple of 4 up to 64 (two halves of 32 with a pattern each),
  // random K (K < 4 too: every run starts at 0).
  const BLOCK_RULES = [
    ...[1, 3, 4, 16, 32].map((block) => ({ block, aligned: false })),
    ...[4, 16, 32, 48, 64].map((block) => ({ block, aligned: true })),
  ];
  for (const { block, aligned } of BLOCK_RULES) {
    const rule = aligned ? 'xxh32-aligned-block' : 'xxh32-block';
    it(`random models with every weight hashed by ${rule}, Z = ${block}, every dtype, fast and naive`, async () => {
      for (const [i, dtype] of DTYPES.entries()) {
        await checkModel(randomModel(400 + i, { dtype, hashed: true, block, aligned }), 400 + i);
        await checkModel(randomModel(410 + i, { dtype, hashed: true, block, aligned }), 410 + i, true);
      }
      await checkModel(mlpModel(420, [784, 100, 10], { hashed: true, block, aligned }, 8), 420);
    });
  }

  // blockGemv (streaming, batch 1) has three paths: blocks of 32 and of 16 with x's slice in registers
  // (every dtype, int8 and int4 read 16 values per load; 48 columns under Z = 32 end in a block of 16),
  // and runDot for every other block; each signed and unsigned, with whole blocks, a shorter last block, and runs that wrap past
  // bucket K - 1: K = 40 < 2Z, and K = 5 < Z, whose run goes round the buckets several times (read from
  // the streaming copy's repeated buckets, kernels.ts: runPad). Compared with the reference and with the
  // naive kernels.
  // Both block rules; K = 41 and 5 are not multiples of 4 (aligned runs then reach the last buckets only by wrapping).
  // Aligned blocks of 48 and 64 go as two halves (32 + 16, 32 + 32; 70 columns end in a half of 6).
  const DENSE_RULES = [
    ...[4, 8, 12, 16, 32].flatMap((block) => [{ block, algorithm: 'xxh32-block' as const }, { block, algorithm: 'xxh32-aligned-block' as const }]),
    { block: 48, algorithm: 'xxh32-aligned-block' as const }, { block: 64, algorithm: 'xxh32-aligned-block' as const },
  ];
  for (const { block, algorithm } of DENSE_RULES) {
    it(`a Dense hashed by ${algorithm} at batch 1, Z = ${block}: signed and unsigned, wrapping runs`, async () => {
      for (const [i, dtype] of DTYPES.entries()) {
        for (const signed of [true, false]) for (const [out, inF, k] of [[40, 70, 40], [5, 70, 41], [17, 64, 40], [9, 48, 5]]) {
          const seeds = { bucketSeed: 11 + i, signSeed: signed ? 12 + i : null };
          const weight = hashedWeight(randomArray(rng(500 + i), out * inF), [out, inF], { algorithm, ...seeds, block }, k, dtype);
          const model: Model = {
            inputs: [{ name: 'x', shape: [-1, inF] }], outputs: [{ name: 'y', shape: [-1, out] }],
            nodes: [{ name: 'fc', op: { type: 'Dense', weight, bias: null }, inputs: ['x'], outputs: ['y'] }], metadata: {},
          };
          await checkModel(model, 500 + i);
          await checkModel(model, 500 + i, true);
        }
      }
    });
  }

  it('MLPs with SIMD-sized and odd layers', async () => {
    await checkModel(mlpModel(1, [64, 33, 10]), 1);
    await checkModel(mlpModel(2, [50, 17, 5], { dtype: 'float16', hashed: true }), 2);
    await checkModel(mlpModel(3, [784, 100, 10], { hashed: true }, 8), 3);
    await checkModel(mlpModel(4, [31, 9, 3], { dtype: 'int8', hashed: true }), 4);
    await checkModel(mlpModel(5, [45, 19, 3], { dtype: 'int4', hashed: true }), 5);
    await checkModel(mlpModel(6, [45, 19, 3], { dtype: 'int4', hashed: false }), 6);
  });

  it('2x2 stride-2 max pools (the f32x4 path) on odd and even sizes, ceil mode on and off', async () => {
    for (const [h, w] of [[8, 8], [9, 13], [2, 16], [5, 17], [12, 24]]) {
      for (const ceilMode of [false, true]) {
        const model: Model = {
          inputs: [{ name: 'x', shape: [-1, 3, h, w] }],
          outputs: [{ name: 'y', shape: [-1, 3, -1, -1] }],
          nodes: [{ name: 'pool', op: { type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode }, inputs: ['x'], outputs: ['y'] }],
          metadata: {},
        };
        await checkModel(model, h * 100 + w);
      }
    }
  });

  it('unpadded convolutions of stride 1 along W (read in place, no im2col)', async () => {
    const configs = [
      { c: 1, m: 6, k: [5, 5], hw: [28, 28], sh: 1, d: [1, 1], group: 1 },
      { c: 6, m: 16, k: [5, 5], hw: [12, 12], sh: 1, d: [1, 1], group: 1 },
      { c: 3, m: 5, k: [3, 2], hw: [9, 13], sh: 2, d: [2, 1], group: 1 },
      { c: 4, m: 4, k: [3, 3], hw: [7, 11], sh: 1, d: [1, 2], group: 4 },
      { c: 4, m: 6, k: [1, 1], hw: [5, 5], sh: 1, d: [1, 1], group: 2 },
    ];
    for (const [i, cfg] of configs.entries()) {
      const random = rng(500 + i);
      const wShape = [cfg.m, cfg.c / cfg.group, ...cfg.k];
      const hash = { algorithm: 'xxh32' as const, bucketSeed: 7 + i, signSeed: 9 + i };
      const model: Model = {
        inputs: [{ name: 'x', shape: [-1, cfg.c, ...cfg.hw] }],
        outputs: [{ name: 'y', shape: [-1, cfg.m, -1, -1] }],
        nodes: [{
          name: 'conv', inputs: ['x'], outputs: ['y'],
          op: { type: 'Conv2D', weight: hashedWeight(randomArray(random, sizeOf(wShape)), wShape, hash, Math.min(17, sizeOf(wShape))), bias: hashedWeight(randomArray(random, cfg.m), [cfg.m], hash, 3),
            strides: [cfg.sh, 1], pads: [0, 0, 0, 0], dilations: cfg.d as [number, number], group: cfg.group },
        }],
        metadata: {},
      };
      await checkModel(model, 500 + i);
      await checkModel(model, 500 + i, true);
    }
  });

  it('axes, ranks and broadcasting off the beaten path', async () => {
    const random = rng(900);
    const bn = (c: number) => ({
      type: 'BatchNorm' as const, scale: randomArray(random, c), bias: randomArray(random, c), mean: randomArray(random, c),
      variance: Float32Array.from({ length: c }, () => 0.5 + random()), epsilon: Math.fround(1e-3),
    });
    const model: Model = {
      inputs: [{ name: 'x', shape: [-1, 4, 5] }, { name: 'b', shape: [4, 1] }],
      outputs: [{ name: 'y', shape: [-1, 20] }, { name: 'p', shape: [-1, 2, 2, 3] }],
      nodes: [
        { name: 'sm', op: { type: 'Softmax', axis: 1 }, inputs: ['x'], outputs: ['s'] },          // over the middle axis of rank 3
        { name: 'lsm', op: { type: 'LogSoftmax', axis: -1 }, inputs: ['s'], outputs: ['l'] },
        { name: 'add', op: { type: 'Add' }, inputs: ['l', 'b'], outputs: ['a'] },                  // [N, 4, 5] + [4, 1]
        { name: 'flat0', op: { type: 'Flatten', axis: 0 }, inputs: ['a'], outputs: ['f0'] },       // [1, N·20]
        { name: 'back', op: { type: 'Reshape', shape: [-1, 20] }, inputs: ['f0'], outputs: ['r'] },
        { name: 'bn2d', op: bn(20), inputs: ['r'], outputs: ['n'] },                               // BatchNorm on rank 2
        { name: 'leaky', op: { type: 'LeakyRelu', alpha: Math.fround(0.2) }, inputs: ['n'], outputs: ['y'] },
        { name: 'img', op: { type: 'Reshape', shape: [0, 2, 2, 5] }, inputs: ['y'], outputs: ['i'] },
        { name: 'avg', op: { type: 'AveragePool', kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true }, inputs: ['i'], outputs: ['p'] },
      ],
      metadata: {},
    };
    await checkModel(model, 900);
  });

  it('a model with two inputs and two outputs', async () => {
    const model: Model = {
      inputs: [{ name: 'a', shape: [-1, 6] }, { name: 'b', shape: [1, 6] }],
      outputs: [{ name: 's', shape: [-1, 6] }, { name: 'y', shape: [-1, 3] }],
      nodes: [
        { name: 'add', op: { type: 'Add' }, inputs: ['a', 'b'], outputs: ['s'] },
        { name: 'fc', op: { type: 'Dense', weight: hashedWeight(randomArray(rng(5), 18), [3, 6], { algorithm: 'xxh32', bucketSeed: 5, signSeed: 6 }, 7), bias: null }, inputs: ['s'], outputs: ['y'] },
      ],
      metadata: {},
    };
    await checkModel(model, 5);
  });
});

for (const build of BUILDS) describe(`virtual weights, bit for bit, ${build} build`, () => {
  before(() => { WASM = WASM_PATHS[build]; });
  // x = identity [in, in] makes y[i, o] = W[o, i] exactly (one product by 1, the rest by 0).
  for (const dtype of DTYPES) {
    for (const signed of [true, false]) for (const [block, aligned] of [[null, false], [8, false], [32, false], [8, true], [32, true], [64, true]] as const) {
      const algorithm = block === null ? 'xxh32' : aligned ? 'xxh32-aligned-block' : 'xxh32-block';
      const kind = block === null ? algorithm : `${algorithm} Z = ${block}`;
      it(`every bucket index and sign of a ${dtype} ${signed ? 'signed' : 'unsigned'} weight, ${kind}`, async () => {
        const random = rng(dtype.length * 10 + Number(signed));
        const [out, inF] = [13, 37]; // 37: nine SIMD steps and a scalar tail; blocks of 8 and 32 end in a partial one
        const seeds = { bucketSeed: 0xdeadbeef, signSeed: signed ? 0x12345678 : null };
        // K = 97 per element; K = 40 for blocks, so that many runs wrap past bucket K - 1
        const weight = hashedWeight(randomArray(random, out * inF), [out, inF],
          block === null ? { algorithm: 'xxh32', ...seeds } : { algorithm: aligned ? 'xxh32-aligned-block' : 'xxh32-block', ...seeds, block }, block === null ? 97 : 40, dtype);
        const model: Model = {
          inputs: [{ name: 'x', shape: [-1, inF] }], outputs: [{ name: 'y', shape: [-1, out] }],
          nodes: [{ name: 'fc', op: { type: 'Dense', weight, bias: null }, inputs: ['x'], outputs: ['y'] }], metadata: {},
        };
        const dense = expandWeight(weight); // [out, in]
        const identity = new Float32Array(inF * inF);
        for (let i = 0; i < inF; i++) identity[i * inF + i] = 1;
        for (const mode of MODES) {
          const m = await loadModel(encode(model), { mode, wasm: WASM });
          const y = m.run({ x: { shape: [inF, inF], data: identity } }).y.data; // [in, out]
          for (let o = 0; o < out; o++) {
            for (let i = 0; i < inF; i++) {
              assert.equal(Object.is(y[i * out + o], dense[o * inF + i]) || y[i * out + o] === dense[o * inF + i], true,
                `${mode}: W[${o}, ${i}] = ${y[i * out + o]}, expected ${dense[o * inF + i]}`);
            }
          }
          m.dispose();
        }
      });
    }
  }
});
