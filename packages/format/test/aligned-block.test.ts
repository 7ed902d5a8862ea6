// Aligned block hashing (xxh32-aligned-block, format 1.2; docs/FORMAT.md "Aligned block
// hashing"): the committed vectors against libxxhash, the row loop against the per-element
// definition, the aligned starts, the bucket spread, the file round trip and what readers refuse.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CheckedByteBuffer } from '../src/codec/checked-byte-buffer.js';
import * as fb from '../src/generated/hnet_generated.js';
import {
  checkReaderVersion, decode, encode, forEachHashed, hashedWeight, hashOfElement, HnetFormatError, minReaderVersion, plainWeight, readVersions,
  halfPatternOf, runReference, runStartOf, xxh32Key, type HashSpec, type Model,
} from '../src/index.js';
import { encodeUnvalidated } from '../src/testing.js';
import { randomArray, rng } from './models.js';

interface AlignedVector {
  row: number; col: number; block: number; buckets: number; bucketSeed: number; signSeed: number;
  blockIndex: number; offset: number; key: string; bucketHash: number; start: number; bucket: number; blockSign: number; pattern: number; sign: number;
}
const { alignedVectors } = JSON.parse(readFileSync(new URL('../vectors/hash-vectors.json', import.meta.url), 'utf8')) as { alignedVectors: AlignedVector[] };

const alignedSpec = (block: number, bucketSeed: number, signSeed: number | null): HashSpec => ({ algorithm: 'xxh32-aligned-block', bucketSeed, signSeed, block });

test('the TS aligned block hash reproduces the committed vectors, which cover the edge cases', () => {
  assert.ok(alignedVectors.length >= 10);
  for (const v of alignedVectors) {
    const got = hashOfElement(alignedSpec(v.block, v.bucketSeed, v.signSeed), v.buckets, v.row, v.col);
    assert.deepEqual(got, { bucket: v.bucket, sign: v.sign }, `(${v.row}, ${v.col}) Z=${v.block} K=${v.buckets}`);
  }
  const some = (what: string, has: (v: AlignedVector) => boolean): void => assert.ok(alignedVectors.some(has), what);
  some('σ = +1 (bit 0 of h clear)', (v) => (v.bucketHash & 1) === 0 && v.blockSign === 1);
  some('σ = −1 (bit 0 of h set)', (v) => (v.bucketHash & 1) === 1 && v.blockSign === -1);
  some('K not a multiple of 4', (v) => v.buckets >= 4 && v.buckets % 4 !== 0);
  some('K < 4, whose run wraps onto itself', (v) => v.buckets < 4 && v.start === 0 && v.offset >= v.buckets);
  some('a run from a non-zero start that wraps past K - 1', (v) => v.start > 0 && v.start + v.offset >= v.buckets);
  some('Z = 4', (v) => v.block === 4);
  some('the last column of a Z = 32 block', (v) => v.block === 32 && v.offset === 31);
  some('the largest row, K and seeds', (v) => v.row === 65535 && v.buckets === 4294967295 && v.bucketSeed === 4294967295);
  some('two rows of one column block', (v) => alignedVectors.some((w) => w.row !== v.row && w.blockIndex === v.blockIndex && w.signSeed === v.signSeed && w.block === v.block));
  // Z = 64: two halves of 32 offsets, the second with the pattern p_1 of the key b + 2^31
  const z64 = alignedVectors.filter((v) => v.block === 64);
  const oneBlock = (offset: number): AlignedVector | undefined => z64.find((v) => v.offset === offset && v.row === z64[0].row && v.blockIndex === z64[0].blockIndex && v.signSeed === z64[0].signSeed);
  for (const offset of [31, 32, 33, 63]) assert.ok(oneBlock(offset), `offset ${offset} of one Z = 64 block`);
  some('a second row of that column block in its second half', (v) => v.block === 64 && v.offset >= 32 && v.row !== z64[0].row && v.blockIndex === z64[0].blockIndex && v.signSeed === z64[0].signSeed);
  some('Z = 64: only the second half wraps past K - 1', (v) => v.block === 64 && v.block <= v.buckets && v.start + 31 < v.buckets && v.start + v.offset >= v.buckets);
  some('Z = 64 above K, from the last start, wrapping inside the second half', (v) => v.block === 64 && v.buckets < 64 && v.start + 4 === v.buckets - (v.buckets % 4) && v.start + v.offset >= 2 * v.buckets);
  some('Z = 64 in block 3 (col >= 192)', (v) => v.block === 64 && v.blockIndex === 3 && v.offset >= 32);
  some('Z = 64, the largest row, K and seeds', (v) => v.block === 64 && v.row === 65535 && v.buckets === 4294967295 && v.bucketSeed === 4294967295);
  some('Z between 32 and 64', (v) => v.block > 32 && v.block < 64 && v.offset >= 32);
  some('Z = 64, σ = +1', (v) => v.block === 64 && v.blockSign === 1);
  some('Z = 64, σ = −1', (v) => v.block === 64 && v.blockSign === -1);
  // `pattern` is the p_j of the offset's half; offset 32 takes σ alone, like offset 0
  for (const v of alignedVectors) assert.equal(v.pattern, halfPatternOf(v.blockIndex, v.offset >> 5, v.signSeed), `pattern of (${v.row}, ${v.col}) Z=${v.block}`);
  assert.equal(oneBlock(32)!.sign, oneBlock(32)!.blockSign);
  // The block's vectors tell the right pattern from the wrong one: bit 31 of p_1 is set (a reader
  // must not read it at offset 32), and reading p_0 at q = 1 or 31 flips the sign.
  const p0 = halfPatternOf(z64[0].blockIndex, 0, z64[0].signSeed);
  assert.equal(oneBlock(32)!.pattern >>> 31, 1);
  for (const offset of [33, 63]) assert.notEqual((p0 >>> (31 - (offset & 31))) & 1, (oneBlock(offset)!.pattern >>> (31 - (offset & 31))) & 1, `p_0 and p_1 at offset ${offset}`);
});

test('aligned vectors, and random elements, agree with an independent definition over python3-xxhash (libxxhash)', () => {
  // The definition written again from docs/FORMAT.md, on libxxhash, sharing no code with hash.ts.
  const random = rng(31);
  const u32 = (): number => Math.floor(random() * 2 ** 32);
  const randomCases = Array.from({ length: 400 }, () => {
    const block = 4 * (1 + Math.floor(random() * 16));
    const buckets = [1, 3, 5, 10, 1001, 98003, 4294967295][Math.floor(random() * 7)] ?? 1;
    return { row: u32(), col: Math.floor(random() * 5000), block, buckets, bucketSeed: u32(), signSeed: u32() };
  });
  assert.ok(randomCases.filter((c) => c.col % c.block >= 32).length >= 50, 'random offsets in a second half');
  const cases = [...alignedVectors, ...randomCases];
  const script = [
    'import sys, json, struct, xxhash',
    'for v in json.load(sys.stdin):',
    '    b, o = v["col"] // v["block"], v["col"] % v["block"]',
    '    j, q = o // 32, o % 32',
    '    key = struct.pack("<II", v["row"], b)',
    '    h = xxhash.xxh32_intdigest(key, seed=v["bucketSeed"])',
    '    p = xxhash.xxh32_intdigest(struct.pack("<I", b + j * 2**31), seed=v["signSeed"])',
    '    start = 4 * ((h * (v["buckets"] // 4)) >> 32)',
    '    flip = (h & 1) ^ ((p >> (31 - q)) & 1 if q >= 1 else 0)',
    '    print(key.hex(), h, start, (start + o) % v["buckets"], -1 if h & 1 else 1, p, -1 if flip else 1)',
  ].join('\n');
  const output = execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', input: JSON.stringify(cases) });
  const lines = output.trim().split('\n');
  assert.equal(lines.length, cases.length);
  alignedVectors.forEach((v, i) => {
    const [key, h, start, bucket, blockSign, p, sign] = lines[i].split(' ');
    assert.deepEqual([key, Number(h), Number(start), Number(bucket), Number(blockSign), Number(p), Number(sign)], [v.key, v.bucketHash, v.start, v.bucket, v.blockSign, v.pattern, v.sign], `vector ${i}`);
  });
  randomCases.forEach((c, i) => {
    const [, , , bucket, , , sign] = lines[alignedVectors.length + i].split(' ');
    assert.deepEqual(hashOfElement(alignedSpec(c.block, c.bucketSeed, c.signSeed), c.buckets, c.row, c.col), { bucket: Number(bucket), sign: Number(sign) }, JSON.stringify(c));
  });
});

test('forEachHashed walks every aligned block as hashOfElement defines each element (every Z, signed and not, cols not a multiple of Z, K below Z)', () => {
  const random = rng(22);
  const layouts: [number[], number][] = [[[5, 37], 50], [[3, 2, 3, 3], 5], [[9], 4], [[4, 64], 3], [[6, 45], 1001], [[7, 100], 10]];
  let unsigned = 0;
  for (const block of [4, 8, 12, 16, 20, 28, 32, 36, 44, 60, 64]) {
    layouts.forEach(([shape, k], i) => {
      const signSeed = (block + i) % 3 === 0 ? null : Math.floor(random() * 2 ** 32);
      if (signSeed === null) unsigned++;
      const spec = alignedSpec(block, Math.floor(random() * 2 ** 32), signSeed);
      const cols = shape.slice(1).reduce((a, b) => a * b, 1);
      let visited = 0;
      forEachHashed(shape, spec, k, (f, bucket, sign) => {
        assert.equal(f, visited++, 'row-major order');
        const expected = hashOfElement(spec, k, Math.floor(f / cols), f % cols);
        assert.deepEqual({ bucket, sign }, expected, `Z=${block} shape [${shape}] K=${k} f=${f}`);
        if (signSeed === null) assert.equal(sign, 1, 'unsigned: every ξ is +1');
      });
      assert.equal(visited, shape.reduce((a, b) => a * b, 1));
    });
  }
  assert.ok(unsigned >= 5, `${unsigned} unsigned specs`);
});

test('at Z = 64, forEachHashed agrees with hashOfElement (cols 100: a full block and a partial one; cols 64), signed and unsigned; offset 32 takes σ alone', () => {
  for (const [shape, k] of [[[30, 100], 1000], [[30, 100], 70], [[30, 100], 50], [[20, 64], 1001], [[3, 2, 32], 64]] as [number[], number][]) {
    for (const signSeed of [null, 0x5eed]) {
      const spec = alignedSpec(64, 0xb0c, signSeed);
      const cols = shape.slice(1).reduce((a, b) => a * b, 1);
      const signs: number[] = [];
      forEachHashed(shape, spec, k, (f, bucket, sign) => {
        const [r, c] = [Math.floor(f / cols), f % cols];
        assert.deepEqual({ bucket, sign }, hashOfElement(spec, k, r, c), `shape [${shape}] K=${k} signed=${signSeed !== null} (${r}, ${c})`);
        // one start per block of 64: the second half's buckets continue the first's run
        if (c % 64 >= 32) assert.equal(bucket, (hashOfElement(spec, k, r, c - 32).bucket + 32) % k);
        signs.push(sign);
      });
      assert.equal(signs.length, shape.reduce((a, b) => a * b, 1));
      if (signSeed === null) { assert.ok(signs.every((s) => s === 1)); continue; }
      for (let f = 0; f < signs.length; f++) {
        const [r, c] = [Math.floor(f / cols), f % cols];
        if (c % 64 !== 0 && c % 64 !== 32) continue;
        const h = xxh32Key(r, Math.floor(c / 64), 0xb0c);
        assert.equal(signs[f], h & 1 ? -1 : 1, `σ at offset ${c % 64} of (${r}, ${c})`);
      }
    }
  }
  // The two halves have their own patterns: were p_0 reused, ξ(32 + q) would equal ξ(q) in every
  // block (one σ); with p_1 they differ at about half of the pairs.
  const spec = alignedSpec(64, 1, 2);
  let differ = 0;
  for (let b = 0; b < 64; b++) {
    for (let q = 1; q < 32; q++) {
      const first = hashOfElement(spec, 1000, 0, 64 * b + q).sign;
      const second = hashOfElement(spec, 1000, 0, 64 * b + 32 + q).sign;
      if (first !== second) differ++;
    }
  }
  assert.ok(Math.abs(differ / (64 * 31) - 0.5) < 0.1, `${differ} of ${64 * 31} offset pairs differ in sign`);
});

test('every run starts on a multiple of 4 with its first quad inside the buckets (start + 4 <= K); below K = 4 it starts at 0', () => {
  const random = rng(23);
  const spec = alignedSpec(4, 0, 0);
  for (const k of [1, 2, 3, 4, 5, 7, 8, 10, 1001, 98000, 98003, 2 ** 31 + 3, 4294967292, 4294967295]) {
    for (const h of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, ...Array.from({ length: 2000 }, () => Math.floor(random() * 2 ** 32))]) {
      const start = runStartOf(spec, h, k);
      // 4 · ⌊h · ⌊K/4⌋ / 2^32⌋, exactly, in BigInt
      assert.equal(start, Number(4n * ((BigInt(h) * BigInt(Math.floor(k / 4))) >> 32n)), `h=${h} K=${k}`);
      if (k < 4) assert.equal(start, 0);
      else assert.ok(start % 4 === 0 && start + 4 <= k, `h=${h} K=${k}: start ${start}`);
    }
  }
  // The same through the row loop: offset 0 of every block sits on a multiple of 4.
  forEachHashed([50, 96], alignedSpec(16, 5, 6), 1001, (f, bucket) => {
    if ((f % 96) % 16 === 0) assert.equal(bucket % 4, 0, `f=${f}`);
  });
});

test('the block sign is bit 0 of the bucket hash: no sign hash, and flipping that bit almost never moves the start', () => {
  // σ comes from h alone, so two sign seeds give the same buckets and the same offset-0 signs;
  // the pattern (from the sign seed) changes the others.
  const [rows, cols, k] = [20, 64, 1000];
  const run = (signSeed: number): { buckets: number[]; signs: number[] } => {
    const buckets: number[] = [];
    const signs: number[] = [];
    forEachHashed([rows, cols], alignedSpec(32, 77, signSeed), k, (_f, bucket, sign) => { buckets.push(bucket); signs.push(sign); });
    return { buckets, signs };
  };
  const [a, b] = [run(1), run(2)];
  assert.deepEqual(a.buckets, b.buckets);
  for (let f = 0; f < rows * cols; f += 32) {
    const h = xxh32Key(Math.floor(f / cols), (f % cols) / 32, 77);
    assert.equal(a.signs[f], h & 1 ? -1 : 1, `σ of f=${f}`);
    assert.equal(b.signs[f], a.signs[f]);
  }
  assert.notDeepEqual(a.signs, b.signs);
  // The start reads the top bits of h: h and h ^ 1 share their start unless one of the
  // ⌊K/4⌋ quad boundaries falls between them, a chance of about ⌊K/4⌋ / 2^32 (5.7e-6 at K = 98,000).
  const random = rng(24);
  const spec = alignedSpec(4, 0, 0);
  let moved = 0;
  for (let i = 0; i < 100000; i++) {
    const h = Math.floor(random() * 2 ** 32);
    if (runStartOf(spec, h, 98000) !== runStartOf(spec, (h ^ 1) >>> 0, 98000)) moved++;
  }
  assert.ok(moved <= 10, `${moved} of 100,000 starts moved`);
});

test('aligned runs cover the buckets evenly and the signs are balanced (1000×784 at K = 98,000, Z = 16)', () => {
  const k = 98000;
  const counts = new Uint32Array(k);
  let negative = 0;
  forEachHashed([1000, 784], alignedSpec(16, 0x1234, 0x1235), k, (_f, bucket, sign) => {
    counts[bucket]++;
    if (sign < 0) negative++;
  });
  // A quad's four buckets share one count, the number of runs that start at it or at the Z/4 - 1
  // quads before: Poisson with mean 8, as per element. The chi-square statistic has mean about K, and
  // (sharing within quads and between overlapping runs) a standard deviation of about √(4KZ/3).
  const mean = (784 * 1000) / k;
  const chiSquare = counts.reduce((s, c) => s + (c - mean) ** 2 / mean, 0);
  const spread = 5 * Math.sqrt((4 * k * 16) / 3);
  assert.ok(Math.abs(chiSquare - k) < spread, `chi-square ${chiSquare.toFixed(0)} vs ${k} ± ${spread.toFixed(0)}`);
  const unused = counts.filter((c) => c === 0).length / k;
  assert.ok(unused < 0.001, `${(unused * 100).toFixed(3)}% of buckets unused (Poisson: 0.034%)`);
  // the block signs (49,000) are independent, so 5 standard deviations are 5 · 0.5 / √49000 ≈ 0.011
  assert.ok(Math.abs(negative / 784000 - 0.5) < 0.011, `fraction of negative signs ${negative / 784000}`);
});

test('which buckets a layer can reach: all of them for Z >= 8; for Z = 4 only the whole quads, 0..4⌊K/4⌋ - 1 (or all of K < 4)', () => {
  for (const k of [3, 5, 10, 12, 1001, 1003]) {
    for (const block of [4, 8, 32, 64]) {
      const reached = new Set<number>();
      forEachHashed([400, 64], alignedSpec(block, 9, 10), k, (_f, bucket) => reached.add(bucket));
      const reachable = block === 4 && k >= 4 ? 4 * Math.floor(k / 4) : k;
      assert.equal(reached.size, reachable, `Z=${block} K=${k}`);
      assert.ok([...reached].every((bucket) => bucket < reachable), `Z=${block} K=${k}`);
    }
  }
});

/** x [N, cols] → Dense 5 (aligned-block-hashed) → y [N, 5]. */
function alignedModel(block: number, signSeed: number | null = 12, cols = 37): Model {
  const random = rng(block);
  const weight = hashedWeight(randomArray(random, 5 * cols), [5, cols], alignedSpec(block, 11, signSeed), 42);
  return {
    inputs: [{ name: 'x', shape: [-1, cols] }],
    outputs: [{ name: 'y', shape: [-1, 5] }],
    nodes: [{ name: 'fc', op: { type: 'Dense', weight, bias: plainWeight(randomArray(random, 5), [5]) }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
}

test('an aligned-block-hashed weight round-trips through the file as HashAlgorithm 2, needs a 1.2 reader, and runs in the reference forward', () => {
  // Z = 64 with 100 columns: a full block and a partial one of 36 that reaches the second half
  for (const [block, signSeed, cols] of [[4, 12, 37], [8, null, 37], [16, 12, 37], [32, 12, 37], [64, 12, 100], [64, null, 100]] as [number, number | null, number][]) {
    const model = alignedModel(block, signSeed, cols);
    assert.deepEqual(minReaderVersion(model), { major: 1, minor: 2 });
    const bytes = encode(model);
    assert.deepEqual(readVersions(bytes), { format: { major: 1, minor: 2 }, minReader: { major: 1, minor: 2 } });
    assert.throws(() => checkReaderVersion(readVersions(bytes), { major: 1, minor: 1 }), /min_reader_version: file needs a reader of format 1\.2 or newer, this one is 1\.1; upgrade hnet/);
    const spec = fb.Model.getRootAsModel(new CheckedByteBuffer(bytes)).nodes(0)!.op(new fb.Dense())!.weight()!.hash()!;
    assert.equal(spec.algorithm(), fb.HashAlgorithm.XXH32AlignedBlock);
    assert.equal(fb.HashAlgorithm.XXH32AlignedBlock, 2);
    assert.equal(spec.block(), block);
    const back = decode(bytes);
    assert.deepEqual(back, model);
    assert.deepEqual(encode(back), bytes, 're-encoding changed the bytes');
    // The reference forward with the weight is x · Vᵀ + b, with V from hashOfElement.
    const x = randomArray(rng(3), 2 * cols);
    const y = runReference(back, { x: { shape: [2, cols], data: x } }).y.data;
    const op = model.nodes[0].op as { weight: { values: { data: Float32Array } }; bias: { values: { data: Float32Array } } };
    for (let n = 0; n < 2; n++) {
      for (let m = 0; m < 5; m++) {
        let acc = op.bias.values.data[m];
        for (let c = 0; c < cols; c++) {
          const { bucket, sign } = hashOfElement(alignedSpec(block, 11, signSeed), 42, m, c);
          acc += x[n * cols + c] * sign * op.weight.values.data[bucket];
        }
        assert.ok(Math.abs(y[n * 5 + m] - acc) < 1e-5, `Z=${block} y[${n}, ${m}] = ${y[n * 5 + m]}, expected ${acc}`);
      }
    }
  }
});

test('one aligned weight anywhere sets min_reader_version 1.2: a Constant beside an xxh32-block Dense', () => {
  const model = alignedModel(4);
  (model.nodes[0].op as { weight: { hash: HashSpec } }).weight.hash = { algorithm: 'xxh32-block', bucketSeed: 11, signSeed: 12, block: 4 };
  const constant = hashedWeight(randomArray(rng(1), 5), [1, 5], { algorithm: 'xxh32-block', bucketSeed: 1, signSeed: 2, block: 4 }, 4);
  model.nodes.push({ name: 'c', op: { type: 'Constant', value: constant }, inputs: [], outputs: ['c'] }, { name: 'add', op: { type: 'Add' }, inputs: ['y', 'c'], outputs: ['z'] });
  model.outputs = [{ name: 'z', shape: [-1, 5] }];
  assert.deepEqual(readVersions(encode(model)).minReader, { major: 1, minor: 1 });
  constant.hash = alignedSpec(4, 1, 2);
  assert.deepEqual(readVersions(encode(model)).minReader, { major: 1, minor: 2 });
});

test('encode and decode accept every block 4, 8, .., 64 and reject the others, naming the field', () => {
  for (const block of [4, 32, 36, 60, 64]) {
    const model = alignedModel(4);
    (model.nodes[0].op as { weight: { hash: HashSpec } }).weight.hash = alignedSpec(block, 11, 12);
    assert.deepEqual(decode(encode(model)), model, `Z=${block}`);
  }
  for (const block of [0, 2, 6, 62, 68, 128, 2.5]) {
    const model = alignedModel(4);
    (model.nodes[0].op as { weight: { hash: HashSpec } }).weight.hash = alignedSpec(block, 11, 12);
    const refused = (e: unknown): boolean =>
      e instanceof HnetFormatError && e.code === 'invalid-field' && /nodes\[0\].*\.weight\.hash\.block: xxh32-aligned-block needs a block of 4, 8, \.\., 64 columns, got/.test(e.message);
    assert.throws(() => encode(model), refused, `encode, Z=${block}`);
    if (Number.isInteger(block)) assert.throws(() => decode(encodeUnvalidated(model)), refused, `decode, Z=${block}`);
  }
});

test('a file with the unknown hash algorithm 3 is refused as needing a newer hnet, not as corrupt', () => {
  const bytes = encode(alignedModel(8));
  const bb = new CheckedByteBuffer(bytes);
  const spec = fb.Model.getRootAsModel(bb).nodes(0)!.op(new fb.Dense())!.weight()!.hash()!;
  bytes[spec.bb_pos + bb.__offset(spec.bb_pos, 4)] = 3; // algorithm, stored because 2 is not the default
  assert.throws(() => decode(bytes), (e: unknown) =>
    e instanceof HnetFormatError && e.code === 'unsupported-version' && /nodes\[0\]\.op\.weight\.hash\.algorithm: unknown hash algorithm 3; the file may need a newer hnet/.test(e.message));
});
