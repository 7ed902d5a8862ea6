// Writes vectors/hash-vectors.json and prints the Markdown table of docs/FORMAT.md.
// The vectors come from this package's hash.ts; test/hash.test.ts checks them
// against Debian's xxhsum and python3-xxhash, which share no code with it.
// Run: npx tsx scripts/hash-vectors.ts
import { writeFileSync } from 'node:fs';
import { bucketOf, signOf, xxh32Key } from '../src/hash.js';

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
writeFileSync(new URL('../vectors/hash-vectors.json', import.meta.url), JSON.stringify({ bucketCounts, vectors }, null, 1) + '\n');

console.log('| row | col | key bytes (hex) | seed | XXH32 | ξ | bucket K=10 | bucket K=1000 | bucket K=98000 |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const v of vectors) {
  console.log(`| ${v.row} | ${v.col} | \`${v.key}\` | ${v.seed} | \`0x${v.hash.toString(16).padStart(8, '0')}\` | ${v.sign > 0 ? '+1' : '−1'} | ${v.buckets[10]} | ${v.buckets[1000]} | ${v.buckets[98000]} |`);
}
