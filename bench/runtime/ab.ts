// A/B timing of runtime builds: several hnet.wasm files on the same models,
// interleaved rounds in one process (a busy machine slows them alike; each
// build's best round counts), beside onnxruntime-web. For kernel work: build
// variant A, copy build/hnet.wasm aside, build variant B, then
//
//   node --import tsx bench/runtime/ab.ts a.wasm b.wasm [--models mlp-1/8-block32,...] [--mode streaming] [--batch 1]
//
// (from the repo root; ROUNDS and ROUND_MS as in run.ts). Prints each build's
// median call time per model and its speed against onnxruntime-web.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encode, runReference, sizeOf } from '@hnet/format';
import { loadModel } from '@hnet/runtime-wasm';
import { benchInput, makeEngine, median, timeCalls } from './engine.js';
import { MODELS } from './models.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    models: { type: 'string', default: 'mlp-1/8-block32' },
    mode: { type: 'string', default: 'streaming' },
    batch: { type: 'string', default: '1' },
  },
});
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const ROUND_MS = Number(process.env.ROUND_MS ?? 250);
const batch = Number(values.batch);
const mode = values.mode as 'streaming' | 'materialized';
if (positionals.length === 0) throw new Error('usage: ab.ts A.wasm [B.wasm ...] [--models a,b] [--mode streaming|materialized] [--batch N]');
const builds = positionals.map((path) => ({ path, bytes: readFileSync(path) }));

for (const modelName of values.models!.split(',')) {
  const make = MODELS[modelName];
  if (!make) throw new Error(`unknown model ${modelName}; one of ${Object.keys(MODELS).join(', ')}`);
  const model = make();
  const perExample = model.inputs[0].shape.slice(1);
  const input = benchInput(batch * sizeOf(perExample));
  const expected = runReference(model, { x: { shape: [batch, ...perExample], data: input } }).y.data;
  const calls: (() => unknown)[] = [];
  const labels: string[] = [];
  const closes: (() => unknown)[] = []; // run after the model: nothing of it weighs on the next one
  for (const { path, bytes } of builds) {
    const m = await loadModel(encode(model), { mode, wasm: bytes });
    closes.push(() => m.dispose());
    const x = { x: { shape: [batch, ...perExample], data: input } };
    let diff = 0;
    m.run(x).y.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - expected[i]))));
    calls.push(() => m.run(x));
    labels.push(`${path} (max abs diff ${diff.toExponential(1)})`);
  }
  const ortEngine = await makeEngine('ort-web', model);
  closes.push(ortEngine.close);
  calls.push(await ortEngine.runner(batch));
  labels.push('ort-web');
  for (const call of calls) for (let i = 0; i < 5; i++) await call(); // warm up
  const best = calls.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < calls.length; i++) best[i] = Math.min(best[i], median(await timeCalls(calls[i], ROUND_MS)));
  }
  const ortMs = best.at(-1)!;
  console.log(`${modelName}, ${mode}, batch ${batch}:`);
  labels.forEach((label, i) => console.log(`  ${best[i].toFixed(3)} ms  ${(ortMs / best[i]).toFixed(2)}x ort-web  ${label}`));
  for (const close of closes) await close();
}
