// Bucket-load and sign statistics of the format hash on the 784-1000 layer at 1/8 and 1/64
// (docs/results/TRAINING.md, "Hash quality"). Run: node --import tsx bench/train/hash-quality.ts
import { forEachHashed } from '@hnet/format';
for (const ratio of [8, 64]) {
  const shape = [1000, 784];
  const n = 784000;
  const K = Math.round(n / ratio);
  const count = new Uint32Array(K);
  let pos = 0;
  forEachHashed(shape, { algorithm: 'xxh32', bucketSeed: 12345, signSeed: 678 }, K, (_f, b, s) => { count[b]++; if (s > 0) pos++; });
  const mean = n / K;
  let chi = 0, max = 0, empty = 0, varr = 0;
  for (const c of count) { chi += (c - mean) ** 2 / mean; max = Math.max(max, c); if (!c) empty++; varr += (c - mean) ** 2; }
  console.log(`1/${ratio}: K=${K} mean load ${mean} var ${(varr / K).toFixed(2)} (Poisson: ${mean}) chi2/dof ${(chi / (K - 1)).toFixed(4)} max ${max} empty ${empty} (Poisson expects ${(K * Math.exp(-mean)).toFixed(1)}) positive signs ${(pos / n).toFixed(4)}`);
}
