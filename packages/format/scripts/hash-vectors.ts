// Writes vectors/hash-vectors.json and prints the Markdown tables of docs/FORMAT.md
// ("Test vectors", "Block hashing" and "Aligned block hashing").
// The vectors come from this package's hash.ts; test/hash.test.ts, block.test.ts
// and aligned-block.test.ts check them against Debian's xxhsum and python3-xxhash,
// which share no code with it.
// Run: npx tsx scripts/hash-vectors.ts
import { writeFileSync } from 'node:fs';
import { blockSignBits, blockSignOf, bucketOf, columnPatternOf, halfPatternOf, runBucket, runStartOf, signOf, xxh32Key } from '../src/hash.js';
import type { HashSpec } from '../src/model.js';

const keys: [number, number][] = [[0, 0], [0, 1], [1, 2], [999, 783], [65535, 65536], [123456, 7], [4294967295, 4294967295]];
const seeds = [0, 1, 42, 0x9747b28c, 4294967295];
const bucketCounts = [1, 2, 10, 1000, 98000, 4294967295];

const hex = (row: number, col: number): string =>
  [row, col].map((v) => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('')).join('');

const vectors = keys.flatMap(([row, col], i) => {
  const seed = seeds[i % seeds.length];
  const hash = xxh32Key(row, col, seed);
  return [{ row, col, seed, key: hex(row, col), hash, sign: signOf(hash), buckets: Object.fromEntries(bucketCounts.map((k) => [k, bucketOf(hash, k)])) }];
});
// Every seed on one key, so each seed is exercised.
for (const seed of seeds) {
  const hash = xxh32Key(7, 3, seed);
  vectors.push({ row: 7, col: 3, seed, key: hex(7, 3), hash, sign: signOf(hash), buckets: Object.fromEntries(bucketCounts.map((k) => [k, bucketOf(hash, k)])) });
}

// Block hashing (xxh32-block): [row, col, Z, K, bucket seed, sign seed]. Chosen to reach
// the last offset of a block (o = Z - 1, o = 31), a run that wraps past K - 1 and
// Z = 1 (the per-element hash); the bucket and sign seeds differ as writers make them.
const blockCases: [number, number, number, number, number, number][] = [
  [0, 0, 4, 10, 0, 1], [0, 5, 4, 10, 0, 1], [1, 2, 1, 1000, 42, 43], [999, 783, 16, 98000, 0x9747b28c, 7],
  [3, 31, 32, 7, 5, 6], [7, 100, 8, 1000, 1, 2], [2, 19, 16, 10, 11, 12], [65535, 65536, 32, 4294967295, 4294967295, 0],
  [123456, 7, 3, 98000, 42, 0x9747b28c], [0, 47, 16, 12, 9, 10],
  // two rows of one column block (one pattern p, two block signs), at offset 0 (p not used) and 17
  [5, 32, 32, 1000, 3, 4], [6, 32, 32, 1000, 3, 4], [5, 49, 32, 1000, 3, 4], [6, 49, 32, 1000, 3, 4],
];
const blockVectors = blockCases.map(([row, col, block, buckets, bucketSeed, signSeed]) => {
  const b = Math.floor(col / block);
  const offset = col % block;
  const bucketHash = xxh32Key(row, b, bucketSeed);
  const signHash = xxh32Key(row, b, signSeed);
  const pattern = columnPatternOf(b, signSeed);
  const start = bucketOf(bucketHash, buckets);
  return {
    row, col, block, buckets, bucketSeed, signSeed, blockIndex: b, offset, key: hex(row, b),
    bucketHash, start, bucket: runBucket(start, offset, buckets), signHash, pattern, sign: blockSignOf(signHash, pattern, offset),
  };
});

// Aligned block hashing (xxh32-aligned-block): the same case layout. Chosen for K not a
// multiple of 4 (10, 1001, 98003), K < 4 (start 0: a Z = 4 run wraps onto itself), runs
// that wrap past K - 1, Z = 4 and Z = 32 at o = 31, the largest row, column, K and seeds,
// and both block signs σ (bit 0 of h); then Z = 64 and 36, whose offsets from 32 on take
// their signs from the second pattern p_1. `pattern` is the p_j that the offset reads.
const alignedCases: [number, number, number, number, number, number][] = [
  [0, 0, 4, 10, 0, 1], [0, 7, 4, 10, 0, 1], [1, 3, 4, 3, 42, 43], [999, 783, 16, 98003, 0x9747b28c, 7],
  [7, 100, 8, 1001, 1, 2], [2, 15, 8, 10, 11, 12], [3, 31, 32, 7, 5, 6], [0, 47, 16, 12, 9, 10],
  [123456, 7, 4, 98000, 42, 0x9747b28c], [65535, 65536, 32, 4294967295, 4294967295, 0], [65535, 65567, 32, 4294967295, 4294967295, 0],
  // two rows of one column block (one pattern p, two block signs), at offset 0 (p not used) and 17
  [5, 32, 32, 1000, 3, 4], [6, 32, 32, 1000, 3, 4], [5, 49, 32, 1000, 3, 4], [6, 49, 32, 1000, 3, 4],
  // Z = 64, two halves of 32 offsets with patterns p_0 and p_1: offsets 31, 32 (σ alone), 33 and 63 of
  // block 1 of row 6, and row 5 of the same column block at offset 40 (its run from 980 wraps). Sign
  // seed 123 makes p_0 and p_1 differ at q = 1, 8 and 31 and sets bit 31 of p_1, so a reader that
  // takes the wrong pattern, or a pattern bit at offset 32, gets some sign wrong.
  [6, 95, 64, 1000, 3, 123], [6, 96, 64, 1000, 3, 123], [6, 97, 64, 1000, 3, 123], [6, 127, 64, 1000, 3, 123], [5, 104, 64, 1000, 3, 123],
  // Z = 64 at K = 70: only the second half wraps past K - 1 (start 36, o = 34 is bucket 0); at K = 50 < Z
  // from the last start, 44, the run wraps onto itself and again inside its second half (o = 58)
  [10, 34, 64, 70, 13, 14], [35, 58, 64, 50, 13, 14],
  // Z = 64: block 3 at o = 37, the last, partial block of a row of 230 columns; the largest row, K and seeds
  // at o = 63 (p_1 from the key 2^31 + 1024); and Z = 36, a multiple of 4 above 32, at its last offset
  [2, 229, 64, 1001, 21, 22], [65535, 65599, 64, 4294967295, 4294967295, 0], [3, 71, 36, 1000, 5, 6],
];
const alignedVectors = alignedCases.map(([row, col, block, buckets, bucketSeed, signSeed]) => {
  const spec: HashSpec = { algorithm: 'xxh32-aligned-block', bucketSeed, signSeed, block };
  const b = Math.floor(col / block);
  const offset = col % block;
  const bucketHash = xxh32Key(row, b, bucketSeed);
  // the pattern p_j of the offset's half j = ⌊o / 32⌋ (p_0 = p; p_1 only when Z > 32), read at q = o mod 32
  const pattern = halfPatternOf(b, offset >> 5, signSeed);
  const start = runStartOf(spec, bucketHash, buckets);
  const sigma = blockSignBits(spec, bucketHash, 0, b); // aligned: from the bucket hash alone
  return {
    row, col, block, buckets, bucketSeed, signSeed, blockIndex: b, offset, key: hex(row, b),
    bucketHash, start, bucket: runBucket(start, offset, buckets), blockSign: sigma >>> 31 ? -1 : 1, pattern, sign: blockSignOf(sigma, pattern, offset & 31),
  };
});
writeFileSync(new URL('../vectors/hash-vectors.json', import.meta.url), JSON.stringify({ bucketCounts, vectors, blockVectors, alignedVectors }, null, 1) + '\n');

console.log('| row | col | key bytes (hex) | seed | XXH32 | ξ | bucket K=10 | bucket K=1000 | bucket K=98000 |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const v of vectors) {
  console.log(`| ${v.row} | ${v.col} | \`${v.key}\` | ${v.seed} | \`0x${v.hash.toString(16).padStart(8, '0')}\` | ${v.sign > 0 ? '+1' : '−1'} | ${v.buckets[10]} | ${v.buckets[1000]} | ${v.buckets[98000]} |`);
}

console.log('\nBlock hashing:\n');
console.log('| row | col | Z | b | o | key (r, b) bytes (hex) | K | bucket seed | XXH32 h | start | bucket | sign seed | XXH32 s | pattern p | ξ |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
const h8 = (v: number): string => `\`0x${v.toString(16).padStart(8, '0')}\``;
for (const v of blockVectors) {
  console.log(`| ${v.row} | ${v.col} | ${v.block} | ${v.blockIndex} | ${v.offset} | \`${v.key}\` | ${v.buckets} | ${v.bucketSeed} | ${h8(v.bucketHash)} | ${v.start} | ${v.bucket} | ${v.signSeed} | ${h8(v.signHash)} | ${h8(v.pattern)} | ${v.sign > 0 ? '+1' : '−1'} |`);
}

console.log('\nAligned block hashing:\n');
console.log('| row | col | Z | b | o | key (r, b) bytes (hex) | K | bucket seed | XXH32 h | start | bucket | σ | sign seed | pattern p_j | ξ |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const v of alignedVectors) {
  console.log(`| ${v.row} | ${v.col} | ${v.block} | ${v.blockIndex} | ${v.offset} | \`${v.key}\` | ${v.buckets} | ${v.bucketSeed} | ${h8(v.bucketHash)} | ${v.start} | ${v.bucket} | ${v.blockSign > 0 ? '+1' : '−1'} | ${v.signSeed} | ${h8(v.pattern)} | ${v.sign > 0 ? '+1' : '−1'} |`);
}
