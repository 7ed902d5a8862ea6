// The runtime benchmark (issue 5): every engine on every model (enginesFor), timed side by
// side in one process (interleaved rounds, so that a busy machine slows them
// alike; each engine's best round counts), and peak memory measured per
// engine in its own process. Prints a markdown table and writes
// bench/out/runtime.json and bench/out/runtime.md.
//
//   node --import tsx bench/runtime/run.ts            (from the repo root)
//   MODELS=mlp-1/8-block32,lenet-1/8-block32 node --import tsx bench/runtime/run.ts   (some models only)
//
// Targets: materialized >= ORT-web speed; streaming <= 2x materialized at
// batch 1 and <= 1.25x at batch 64; streaming memory below the dense weights;
// for the *-block* and *-aligned* models (xxh32-block, xxh32-aligned-block; issue 14) streaming >= 0.8x ORT-web at batch 1.

import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runReference, sizeOf, weightsOf } from '@hnet/format';
import { benchInput, enginesFor, makeEngine, median, timeCalls } from './engine.js';
import { MODELS } from './models.js';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const ROUND_MS = Number(process.env.ROUND_MS ?? 250);
const here = fileURLToPath(new URL('.', import.meta.url));
const selected = process.env.MODELS ? process.env.MODELS.split(',') : Object.keys(MODELS);
for (const name of selected) if (!MODELS[name]) throw new Error(`MODELS: unknown model ${name}; one of ${Object.keys(MODELS).join(', ')}`);

interface Row {
  engine: string; model: string; latencyMs: number; batchMs: number; throughput: number;
  peakRssDelta: number; linearMemory?: number; weights?: number; arena?: number; maxAbsDiff: number;
}
const rows: Row[] = [];

for (const modelName of selected) {
  const model = MODELS[modelName]();
  const perExample = model.inputs[0].shape.slice(1);
  const expected = runReference(model, { x: { shape: [1, ...perExample], data: benchInput(sizeOf(perExample)) } }).y.data;
  const names = enginesFor(model);
  const engines = await Promise.all(names.map((e) => makeEngine(e, model)));
  const ones = await Promise.all(engines.map((e) => e.runner(1)));
  const manys = await Promise.all(engines.map((e) => e.runner(64)));
  const diffs = await Promise.all(ones.map(async (call) => {
    const out = await call();
    let d = 0;
    out.forEach((v, i) => (d = Math.max(d, Math.abs(v - expected[i]))));
    return d;
  }));
  // warm up for a round's time, not a few calls: onnxruntime-web's first convolution model in a process
  // stayed at 0.063 ms through all rounds after 5 calls (0.040 once warm, LeNet at 1/64)
  for (const call of [...ones, ...manys]) await timeCalls(call, ROUND_MS);
  const best1 = names.map(() => Infinity);
  const best64 = names.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) {
    for (let e = 0; e < names.length; e++) {
      best1[e] = Math.min(best1[e], median(await timeCalls(ones[e], ROUND_MS)));
      best64[e] = Math.min(best64[e], median(await timeCalls(manys[e], ROUND_MS)));
    }
  }
  names.forEach((engine, e) => {
    const mem = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', `${here}engine.ts`, engine, modelName], { encoding: 'utf8', cwd: here }).trim().split('\n').at(-1)!);
    rows.push({ engine, model: modelName, latencyMs: best1[e], batchMs: best64[e], throughput: 64_000 / best64[e], maxAbsDiff: diffs[e], ...mem });
    process.stderr.write(`${modelName} ${engine}: ${best1[e].toFixed(3)} ms at batch 1, ${(64_000 / best64[e]).toFixed(0)} ex/s at batch 64\n`);
  });
  await Promise.all(engines.map((e) => e.close()));
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(2);
const lines: string[] = [];
lines.push(`Machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end.`, '');
for (const modelName of selected) {
  const model = MODELS[modelName]();
  let denseBytes = 0;
  for (const n of model.nodes) {
    const w = weightsOf(n.op);
    if (w) denseBytes += 4 * (sizeOf(w.weight.shape) + (w.bias ? sizeOf(w.bias.shape) : 0));
  }
  const of = (engine: string): Row => rows.find((r) => r.model === modelName && r.engine === engine)!;
  const [mat, str, ort] = [of('hnet-materialized'), of('hnet-streaming'), of('ort-web')];
  lines.push(`### ${modelName} (dense weights ${mb(denseBytes)} MiB)`, '');
  lines.push('| engine | latency, batch 1 (ms) | throughput, batch 64 (ex/s) | peak RSS growth (MiB) | wasm memory (MiB) | weights + arena at 64 (MiB) | max abs diff vs reference |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const engine of enginesFor(model)) {
    const r = of(engine);
    const hnet = r.weights !== undefined;
    lines.push(`| ${engine} | ${r.latencyMs.toFixed(3)} | ${r.throughput.toFixed(0)} | ${mb(r.peakRssDelta)} | ${hnet ? mb(r.linearMemory!) : '-'} | ${hnet ? `${mb(r.weights!)} + ${mb(r.arena!)}` : '-'} | ${r.maxAbsDiff.toExponential(1)} |`);
  }
  lines.push('');
  lines.push(`- materialized vs onnxruntime-web: ${(ort.latencyMs / mat.latencyMs).toFixed(2)}x its speed at batch 1, ${(mat.throughput / ort.throughput).toFixed(2)}x at batch 64 (target >= 1)`);
  lines.push(`- streaming time / materialized time: ${(str.latencyMs / mat.latencyMs).toFixed(2)}x at batch 1 (target <= 2), ${(str.batchMs / mat.batchMs).toFixed(2)}x at batch 64 (target <= 1.25)`);
  lines.push(`- streaming vs onnxruntime-web: ${(ort.latencyMs / str.latencyMs).toFixed(2)}x its speed at batch 1, ${(str.throughput / ort.throughput).toFixed(2)}x at batch 64 (issue 14, block hashing: >= 0.8 at batch 1)`);
  lines.push(`- streaming memory: weights + tile ${mb(str.weights!)} MiB, with the batch-64 arena ${mb(str.weights! + str.arena!)} MiB, vs dense weights ${mb(denseBytes)} MiB (target: below)`);
  lines.push('');
}
const wasmSize = statSync(new URL('../../packages/runtime-wasm/build/hnet.wasm', import.meta.url)).size;
lines.push(`hnet.wasm (release build): ${wasmSize} bytes (${(wasmSize / 1024).toFixed(1)} KiB).`);
const table = lines.join('\n');
console.log(table);
mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
writeFileSync(new URL('../out/runtime.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), rows, wasmSize }, null, 1));
writeFileSync(new URL('../out/runtime.md', import.meta.url), table + '\n');
