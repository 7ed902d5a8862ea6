// The runtime's hash against @hnet/format, bit for bit: the shared vectors
// of @hnet/format/hash-vectors.json, then random keys and seeds.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bucketOf, float16Value, signOf, xxh32Key } from '@hnet/format';
import { rawInstance } from './helpers.js';
import { rng } from './models.js';

interface Vectors {
  vectors: { row: number; col: number; seed: number; hash: number; sign: number; buckets: Record<string, number> }[];
}

it('matches the shared hash vectors of @hnet/format', async () => {
  const x = await rawInstance();
  const { vectors } = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@hnet/format/hash-vectors.json'), 'utf8')) as Vectors;
  assert.ok(vectors.length > 0);
  for (const v of vectors) {
    const h = x.hnet_hash_key(v.row, v.col, v.seed) >>> 0;
    assert.equal(h, v.hash, `hash(${v.row}, ${v.col}, seed ${v.seed})`);
    assert.equal(h >>> 31 ? -1 : 1, v.sign);
    for (const [k, bucket] of Object.entries(v.buckets)) assert.equal(x.hnet_bucket_of(h, Number(k)) >>> 0, bucket, `bucket of ${h} in ${k}`);
  }
});

it('matches xxh32Key, bucketOf and signOf on 100k random keys', async () => {
  const x = await rawInstance();
  const random = rng(7);
  const u32 = (): number => Math.floor(random() * 2 ** 32);
  for (let i = 0; i < 100_000; i++) {
    const [row, col, seed] = i % 3 === 0 ? [i % 1000, i % 784, u32()] : [u32(), u32(), u32()];
    const count = i % 2 ? 1 + Math.floor(random() * 1e6) : 1 + u32() % 0xffffffff;
    const h = x.hnet_hash_key(row, col, seed) >>> 0;
    assert.equal(h, xxh32Key(row, col, seed));
    assert.equal(x.hnet_bucket_of(h, count) >>> 0, bucketOf(h, count));
    assert.equal(h >>> 31 ? -1 : 1, signOf(h));
  }
});

it('decodes all 65536 float16 patterns like float16Value, scalar and SIMD', async () => {
  const x = await rawInstance();
  for (let bits = 0; bits < 0x10000; bits++) {
    const expected = float16Value(bits);
    for (const simd of [0, 1]) {
      const got = x.hnet_float16_to_f32(bits, simd);
      if (Number.isNaN(expected)) {
        assert.ok(Number.isNaN(got), `0x${bits.toString(16)} (simd ${simd}) should be NaN`); // payloads do not survive JS numbers
      } else {
        assert.ok(Object.is(got, expected), `0x${bits.toString(16)} (simd ${simd}): ${got}, expected ${expected}`);
      }
    }
  }
});
