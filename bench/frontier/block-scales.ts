// Do per-block int4 scales pay for themselves? Takes hashed .hnet files with
// float32 buckets (retrained), rounds every hashed weight's buckets to int4
// four ways and scores each on the Fashion-MNIST test set (reference forward):
//   per-tensor max     the format's int4 (scale max|w| / 7), what hnet writes;
//   per-tensor clipped one scale per tensor at the clip that minimises the rounding error
//                      (still the format's int4: only the scale differs);
//   per-block max, B   a float16 scale per B consecutive buckets (2 bytes / B more per weight).
// Rounding only (no quantization-aware retraining): it isolates what the scale layout buys.
//
//   node --import tsx bench/frontier/block-scales.ts /tmp/h64f32.hnet [...]

import { readFileSync } from 'node:fs';
import { decode, float16Bits, float16Value, IDENTITY_NORMALIZATION, readNormalization, runReference, storedBytes, valuesFromFloat32, valuesToFloat32, type Model } from '@hnet/format';
import { argmaxRow, loadIdxDir, normalize } from '@hnet/train';

const test = loadIdxDir('/usr/share/datasets/fashion-mnist').test!;
const BLOCKS = [16, 64, 256];

function accuracy(model: Model): number {
  const x = normalize(test, readNormalization(model.metadata) ?? IDENTITY_NORMALIZATION).x;
  const out = runReference(model, { [model.inputs[0].name]: { shape: [test.count, ...model.inputs[0].shape.slice(1)], data: x } })[model.outputs[0].name];
  const k = out.shape[1];
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (argmaxRow(out.data, i, k) === test.y![i]) correct++;
  return correct / test.count;
}

const round4 = (v: number, scale: number): number => Math.max(-7, Math.min(7, Math.round(v / scale))) * scale;
const sse = (w: Float32Array, scale: number): number => w.reduce((s, v) => s + (v - round4(v, scale)) ** 2, 0);

/** Rounded buckets of one weight, and the bytes their storage takes. */
const SCHEMES: Record<string, (w: Float32Array) => { values: Float32Array; bytes: number }> = {
  'per-tensor max': (w) => ({ values: valuesToFloat32(valuesFromFloat32(w, 'int4')), bytes: storedBytes('int4', w.length) + 4 }),
  'per-tensor clipped': (w) => {
    const max = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let best = max / 7;
    for (let f = 0.2; f <= 1; f += 0.01) if (sse(w, (f * max) / 7) < sse(w, best)) best = (f * max) / 7;
    return { values: Float32Array.from(w, (v) => round4(v, best)), bytes: storedBytes('int4', w.length) + 4 };
  },
  ...Object.fromEntries(BLOCKS.map((b) => [`per-block max, B=${b}`, (w: Float32Array) => {
    const values = new Float32Array(w.length);
    for (let s = 0; s < w.length; s += b) {
      const block = w.subarray(s, s + b);
      const scale = float16Value(float16Bits(Math.max(block.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 7, 1e-8)));
      block.forEach((v, i) => (values[s + i] = round4(v, scale)));
    }
    return { values, bytes: storedBytes('int4', w.length) + 2 * Math.ceil(w.length / b) };
  }])),
};

for (const file of process.argv.slice(2)) {
  const model = decode(readFileSync(file));
  console.log(`${file}: float32 buckets ${(accuracy(model) * 100).toFixed(2)}%`);
  for (const [name, scheme] of Object.entries(SCHEMES)) {
    let bytes = 0;
    let err = 0;
    let norm = 0;
    const nodes = model.nodes.map((node) => {
      if ((node.op.type !== 'Dense' && node.op.type !== 'Conv2D') || !node.op.weight.hash) return node;
      const w = valuesToFloat32(node.op.weight.values);
      const r = scheme(w);
      bytes += r.bytes;
      w.forEach((v, i) => { err += (v - r.values[i]) ** 2; norm += v * v; });
      return { ...node, op: { ...node.op, weight: { ...node.op.weight, values: { dtype: 'float32' as const, data: r.values } } } };
    });
    const acc = accuracy({ ...model, nodes });
    console.log(`  ${name.padEnd(22)} buckets ${String(bytes).padStart(6)} B  rounding error ${Math.sqrt(err / norm).toFixed(4)}  accuracy ${(acc * 100).toFixed(2)}%`);
  }
}
