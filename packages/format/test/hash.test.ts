import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bucketOf, forEachHashed, keyFinish, keyRowState, signOf, xxh32, xxh32Key } from '../src/index.js';
import { rng } from './models.js';

interface Vector { row: number; col: number; seed: number; key: string; hash: number; sign: number; buckets: Record<string, number> }
const { vectors } = JSON.parse(readFileSync(new URL('../vectors/hash-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };
const keyBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));

/** Runs a tool the tests depend on, or fails with how to install it. */
function tool(command: string, args: string[], apt: string, input?: string): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') assert.fail(`${command} is not installed; install it with: apt-get install -y ${apt}`);
    throw new Error(`${command} failed: ${err.stderr ?? err.message}`, { cause: e });
  }
}

test('the TS hash reproduces the committed vectors (hash, sign, buckets)', () => {
  for (const v of vectors) {
    const hash = xxh32Key(v.row, v.col, v.seed);
    assert.equal(hash, v.hash, `key (${v.row}, ${v.col}) seed ${v.seed}`);
    assert.equal(xxh32(keyBytes(v.key), v.seed), v.hash, 'the key layout is uint32 row LE then uint32 col LE');
    assert.equal(signOf(hash), v.sign);
    for (const [k, bucket] of Object.entries(v.buckets)) assert.equal(bucketOf(hash, Number(k)), bucket, `K=${k}`);
  }
});

test('XXH32 with seed 0 agrees with Debian xxhsum on the vector keys and on random inputs of 0..80 bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hnet-xxh-'));
  try {
    const random = rng(99);
    const inputs = new Map<string, Uint8Array>();
    vectors.forEach((v, i) => inputs.set(`key${i}.bin`, keyBytes(v.key)));
    for (let len = 0; len <= 80; len++) inputs.set(`len${len}.bin`, Uint8Array.from({ length: len }, () => Math.floor(random() * 256)));
    for (const [name, bytes] of inputs) writeFileSync(join(dir, name), bytes);
    const output = tool('xxhsum', ['-H0', ...inputs.keys()].map((a, i) => (i === 0 ? a : join(dir, a))), 'xxhash');
    let compared = 0;
    for (const line of output.trim().split('\n')) {
      const [digest, path] = line.split(/\s+/);
      const name = path.slice(dir.length + 1);
      assert.equal(xxh32(inputs.get(name)!, 0).toString(16).padStart(8, '0'), digest, name);
      compared++;
    }
    assert.equal(compared, inputs.size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('seeded XXH32 agrees with python3-xxhash (libxxhash) on every vector', () => {
  const script = 'import sys, json, xxhash\nfor v in json.load(sys.stdin): print(xxhash.xxh32_intdigest(bytes.fromhex(v["key"]), seed=v["seed"]))';
  const output = tool('/usr/bin/python3', ['-c', script], 'python3-xxhash', JSON.stringify(vectors));
  const digests = output.trim().split('\n').map(Number);
  assert.equal(digests.length, vectors.length);
  vectors.forEach((v, i) => assert.equal(xxh32Key(v.row, v.col, v.seed), digests[i], `key ${v.key} seed ${v.seed}`));
  // The official xxHash sanity values for empty input.
  assert.equal(xxh32(new Uint8Array(0), 0), 0x02cc5d05);
  assert.equal(xxh32(new Uint8Array(0), 2654435761), 0x36b78ae7);
});

test('the row/column split equals the one-shot hash of the key bytes', () => {
  const random = rng(5);
  for (let i = 0; i < 2000; i++) {
    const row = Math.floor(random() * 2 ** 32);
    const col = Math.floor(random() * 2 ** 32);
    const seed = Math.floor(random() * 2 ** 32);
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(0, row, true);
    new DataView(key.buffer).setUint32(4, col, true);
    assert.equal(keyFinish(keyRowState(row, seed), col), xxh32(key, seed));
  }
});

test('bucketOf is exactly (h * K) >> 32 for any uint32 h and K', () => {
  const random = rng(11);
  const cases: [number, number][] = [[0xffffffff, 0xffffffff], [0xffffffff, 1], [0, 123], [0x80000000, 3]];
  for (let i = 0; i < 5000; i++) cases.push([Math.floor(random() * 2 ** 32), 1 + Math.floor(random() * (2 ** 32 - 1))]);
  for (const [h, k] of cases) {
    assert.equal(bucketOf(h, k), Number((BigInt(h) * BigInt(k)) >> 32n), `h=${h} K=${k}`);
    assert.ok(bucketOf(h, k) < k);
  }
});

test('multiply-shift spreads a real layer over buckets as evenly as a modulo, and signs are balanced', () => {
  // A 784x1000 layer at 1/8: 98,000 buckets, 784,000 virtual weights.
  const shape = [1000, 784];
  const k = 98000;
  const seed = 0x1234;
  const countsShift = new Uint32Array(k);
  const countsModulo = new Uint32Array(k);
  let negative = 0;
  forEachHashed(shape, { algorithm: 'xxh32', bucketSeed: seed, signSeed: seed + 1 }, k, (f, bucket, sign) => {
    countsShift[bucket]++;
    countsModulo[xxh32Key(Math.floor(f / 784), f % 784, seed) % k]++;
    if (sign < 0) negative++;
  });
  const mean = (784 * 1000) / k;
  const chiSquare = (counts: Uint32Array): number => counts.reduce((s, c) => s + (c - mean) ** 2 / mean, 0);
  // For a uniform hash, chi-square has mean K-1 and standard deviation sqrt(2(K-1)) ≈ 443.
  const spread = 5 * Math.sqrt(2 * (k - 1));
  const shift = chiSquare(countsShift);
  const modulo = chiSquare(countsModulo);
  assert.ok(Math.abs(shift - (k - 1)) < spread, `multiply-shift chi-square ${shift.toFixed(0)} vs expected ${k - 1} ± ${spread.toFixed(0)}`);
  assert.ok(Math.abs(modulo - (k - 1)) < spread, `modulo chi-square ${modulo.toFixed(0)}`);
  const fraction = negative / (784 * 1000);
  assert.ok(Math.abs(fraction - 0.5) < 0.005, `fraction of negative signs ${fraction}`);
});

test('two layers of the same shape with different seeds do not share a map', () => {
  const shape = [64, 64];
  const k = 512;
  const a: number[] = [];
  const b: number[] = [];
  forEachHashed(shape, { algorithm: 'xxh32', bucketSeed: 1, signSeed: 2 }, k, (_f, bucket) => a.push(bucket));
  forEachHashed(shape, { algorithm: 'xxh32', bucketSeed: 3, signSeed: 4 }, k, (_f, bucket) => b.push(bucket));
  const same = a.filter((bucket, i) => bucket === b[i]).length / a.length;
  assert.ok(same < 0.01, `${(same * 100).toFixed(2)}% of weights share a bucket across layers (chance is ${(100 / k).toFixed(2)}%)`);
});
