// Block hashing (xxh32-block, docs/FORMAT.md "Block hashing"): the committed
// vectors against libxxhash, the row loop against the per-element definition,
// Z = 1 against per-element xxh32, the bucket spread, and the file round trip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  decode, encode, expandWeight, forEachHashed, hashedWeight, hashOfElement, HnetFormatError, minReaderVersion, plainWeight, runReference,
  type HashSpec, type Model,
} from '../src/index.js';
import { encodeUnvalidated } from '../src/testing.js';
import { randomArray, rng } from './models.js';

interface BlockVector {
  row: number; col: number; block: number; buckets: number; bucketSeed: number; signSeed: number;
  blockIndex: number; offset: number; key: string; bucketHash: number; start: number; bucket: number; signHash: number; pattern: number; sign: number;
}
const { blockVectors } = JSON.parse(readFileSync(new URL('../vectors/hash-vectors.json', import.meta.url), 'utf8')) as { blockVectors: BlockVector[] };

const blockSpec = (block: number, bucketSeed: number, signSeed: number | null): HashSpec => ({ algorithm: 'xxh32-block', bucketSeed, signSeed, block });

test('the TS block hash reproduces the committed block vectors', () => {
  assert.ok(blockVectors.length >= 10);
  for (const v of blockVectors) {
    const got = hashOfElement(blockSpec(v.block, v.bucketSeed, v.signSeed), v.buckets, v.row, v.col);
    assert.deepEqual(got, { bucket: v.bucket, sign: v.sign }, `(${v.row}, ${v.col}) Z=${v.block} K=${v.buckets}`);
  }
  assert.ok(blockVectors.some((v) => v.start + v.offset >= v.buckets), 'some vector wraps around the bucket array');
  assert.ok(blockVectors.some((v) => v.offset === 31), 'some vector is the last column of a Z = 32 block');
  assert.ok(new Set(blockVectors.map((v) => v.sign)).size === 2, 'both signs occur');
  assert.ok(blockVectors.some((v) => v.block > 1 && v.offset === 0 && v.pattern >>> 31 === 1), 'offset 0 ignores the pattern');
});

test('block vectors agree with an independent definition over python3-xxhash (libxxhash)', () => {
  // The definition written again from docs/FORMAT.md, on libxxhash, sharing no code with hash.ts.
  const script = [
    'import sys, json, struct, xxhash',
    'for v in json.load(sys.stdin):',
    '    b, o = v["col"] // v["block"], v["col"] % v["block"]',
    '    key = struct.pack("<II", v["row"], b)',
    '    h = xxhash.xxh32_intdigest(key, seed=v["bucketSeed"])',
    '    s = xxhash.xxh32_intdigest(key, seed=v["signSeed"])',
    '    p = xxhash.xxh32_intdigest(struct.pack("<I", b), seed=v["signSeed"])',
    '    start = (h * v["buckets"]) >> 32',
    '    flip = (s >> 31) ^ ((p >> (31 - o)) & 1 if o >= 1 else 0)',
    '    print(key.hex(), h, start, (start + o) % v["buckets"], s, p, -1 if flip else 1)',
  ].join('\n');
  const output = execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', input: JSON.stringify(blockVectors) });
  const lines = output.trim().split('\n');
  assert.equal(lines.length, blockVectors.length);
  blockVectors.forEach((v, i) => {
    const [key, h, start, bucket, s, p, sign] = lines[i].split(' ');
    assert.deepEqual([key, Number(h), Number(start), Number(bucket), Number(s), Number(p), Number(sign)], [v.key, v.bucketHash, v.start, v.bucket, v.signHash, v.pattern, v.sign], `vector ${i}`);
  });
});

test('forEachHashed walks every block as hashOfElement defines each element (every Z, signed and not, K below Z)', () => {
  const random = rng(21);
  for (const block of [1, 2, 3, 4, 7, 8, 16, 31, 32]) {
    for (const [shape, k] of [[[5, 37], 50], [[3, 2, 3, 3], 5], [[9], 4], [[4, 64], 3]] as [number[], number][]) {
      const spec = blockSpec(block, Math.floor(random() * 2 ** 32), random() < 0.8 ? Math.floor(random() * 2 ** 32) : null);
      const cols = shape.slice(1).reduce((a, b) => a * b, 1);
      let visited = 0;
      forEachHashed(shape, spec, k, (f, bucket, sign) => {
        assert.equal(f, visited++, 'row-major order');
        const expected = hashOfElement(spec, k, Math.floor(f / cols), f % cols);
        assert.deepEqual({ bucket, sign }, expected, `Z=${block} shape [${shape}] K=${k} f=${f}`);
      });
      assert.equal(visited, shape.reduce((a, b) => a * b, 1));
    }
  }
});

test('xxh32-block with Z = 1 is per-element xxh32 exactly', () => {
  const perElement: number[] = [];
  const block: number[] = [];
  forEachHashed([40, 33], { algorithm: 'xxh32', bucketSeed: 7, signSeed: 8 }, 97, (_f, b, s) => perElement.push(b * s));
  forEachHashed([40, 33], blockSpec(1, 7, 8), 97, (_f, b, s) => block.push(b * s));
  assert.deepEqual(block, perElement);
});

test('a block is one contiguous (circular) run of buckets; its signs are its own sign times its column block\'s pattern', () => {
  const spec = blockSpec(16, 3, 4);
  const k = 20; // small K: many runs wrap
  const [rows, cols] = [8, 64];
  const buckets: number[] = [];
  const signs: number[] = [];
  forEachHashed([rows, cols], spec, k, (_f, bucket, sign) => { buckets.push(bucket); signs.push(sign); });
  let wrapped = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (i % 16 === 0) continue;
    assert.equal(buckets[i], (buckets[i - 1] + 1) % k);
    if (buckets[i] === 0) wrapped++;
  }
  assert.ok(wrapped > 0);
  // ξ(r, c) · ξ(r, c0) (c0 the block's first column) is the pattern's sign π(o): the same in every row
  const blockSigns = new Set<number>();
  const patterns = new Set<string>();
  for (let b = 0; b < cols / 16; b++) {
    const relative = (r: number) => Array.from({ length: 16 }, (_, o) => signs[r * cols + b * 16 + o] * signs[r * cols + b * 16]).join();
    for (let r = 0; r < rows; r++) {
      assert.equal(relative(r), relative(0), `row ${r}, block ${b}`);
      blockSigns.add(signs[r * cols + b * 16]);
    }
    patterns.add(relative(0));
  }
  assert.equal(blockSigns.size, 2, 'blocks take both signs');
  assert.equal(patterns.size, cols / 16, 'each column block has its own pattern');
});

test('block runs cover the buckets evenly and the signs are balanced (1000×784 at K = 98,000, Z = 16)', () => {
  const k = 98000;
  const counts = new Uint32Array(k);
  let negative = 0;
  forEachHashed([1000, 784], blockSpec(16, 0x1234, 0x1235), k, (_f, bucket, sign) => {
    counts[bucket]++;
    if (sign < 0) negative++;
  });
  // A bucket's count is the number of runs that cover it, the run starts among the Z buckets at or
  // before it: Poisson with mean 8, as per element, so the chi-square statistic has mean K - 1. Neighbours
  // share their starts, so its spread is about sqrt(Z) times the per-element one.
  const mean = (784 * 1000) / k;
  const chiSquare = counts.reduce((s, c) => s + (c - mean) ** 2 / mean, 0);
  const spread = 5 * Math.sqrt(2 * (k - 1) * 16);
  assert.ok(Math.abs(chiSquare - (k - 1)) < spread, `chi-square ${chiSquare.toFixed(0)} vs ${k - 1} ± ${spread.toFixed(0)}`);
  const unused = counts.filter((c) => c === 0).length / k;
  assert.ok(unused < 0.001, `${(unused * 100).toFixed(3)}% of buckets unused (Poisson: 0.034%)`);
  // the block signs (49,000) are independent, so 5 standard deviations are 5 · 0.5 / √49000 ≈ 0.011
  assert.ok(Math.abs(negative / 784000 - 0.5) < 0.011, `fraction of negative signs ${negative / 784000}`);
});

/** x [N, 37] → Dense 5 (block-hashed) → y [N, 5]. */
function blockModel(block: number, dtype: 'float32' | 'float16' | 'int8' = 'float32'): Model {
  const random = rng(block);
  const weight = hashedWeight(randomArray(random, 5 * 37), [5, 37], blockSpec(block, 11, 12), 40, dtype);
  return {
    inputs: [{ name: 'x', shape: [-1, 37] }],
    outputs: [{ name: 'y', shape: [-1, 5] }],
    nodes: [{ name: 'fc', op: { type: 'Dense', weight, bias: plainWeight(randomArray(random, 5), [5]) }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
}

test('a block-hashed weight round-trips through the file, needs a 1.1 reader, and runs in the reference forward', () => {
  for (const block of [1, 5, 16, 32]) {
    const model = blockModel(block);
    assert.deepEqual(minReaderVersion(model), { major: 1, minor: 1 });
    const back = decode(encode(model));
    const decoded = back.nodes[0].op;
    assert.ok(decoded.type === 'Dense');
    assert.deepEqual(decoded.weight.hash, blockSpec(block, 11, 12));
    // The reference forward with the block-hashed weight is x · Vᵀ + b, with V from hashOfElement.
    const x = randomArray(rng(3), 2 * 37);
    const y = runReference(back, { x: { shape: [2, 37], data: x } }).y.data;
    const op = model.nodes[0].op as { weight: { values: { data: Float32Array } }; bias: { values: { data: Float32Array } } };
    for (let n = 0; n < 2; n++) {
      for (let m = 0; m < 5; m++) {
        let acc = op.bias.values.data[m];
        for (let c = 0; c < 37; c++) {
          const { bucket, sign } = hashOfElement(blockSpec(block, 11, 12), 40, m, c);
          acc += x[n * 37 + c] * sign * op.weight.values.data[bucket];
        }
        assert.ok(Math.abs(y[n * 5 + m] - acc) < 1e-5, `Z=${block} y[${n}, ${m}] = ${y[n * 5 + m]}, expected ${acc}`);
      }
    }
  }
});

test('expandWeight of a block-hashed weight matches the projection it was fitted by (least squares per bucket)', () => {
  // Each bucket is the mean of ξ·W over its virtual weights, so Σ ξ·(V − W) = 0 per bucket.
  const random = rng(9);
  const dense = randomArray(random, 6 * 40);
  const spec = blockSpec(8, 1, 2);
  const weight = hashedWeight(dense, [6, 40], spec, 30);
  const virtual = expandWeight(weight);
  const residual = new Float64Array(30);
  forEachHashed([6, 40], spec, 30, (f, bucket, sign) => { residual[bucket] += sign * (virtual[f] - dense[f]); });
  for (const r of residual) assert.ok(Math.abs(r) < 1e-4);
});

test('decode and encode reject a block outside 1..32, naming the field (64, valid for xxh32-aligned-block, too)', () => {
  for (const block of [0, 33, 36, 64, 2.5]) {
    const model = blockModel(4);
    (model.nodes[0].op as { weight: { hash: HashSpec } }).weight.hash = blockSpec(block, 11, 12);
    const refused = (e: unknown): boolean =>
      e instanceof HnetFormatError && e.code === 'invalid-field' && /fc.*weight\.hash\.block: xxh32-block needs a block of 1\.\.32 columns, got/.test(e.message);
    assert.throws(() => encode(model), refused, `encode, Z=${block}`);
    if (Number.isInteger(block)) assert.throws(() => decode(encodeUnvalidated(model)), refused, `decode, Z=${block}`);
  }
});
