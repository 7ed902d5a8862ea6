// The runtime benchmark: every engine on every model, each in its own
// process (engine.ts), best of REPEATS runs; prints a markdown table and
// writes bench/out/runtime.json.
//
//   node --import tsx bench/runtime/run.ts            (from the repo root)
//
// Ratios reported against the targets of issue 5: materialized >= ORT-web
// speed; streaming <= 2x materialized at batch 1 and <= 1.25x at batch 64;
// streaming memory below the dense weights' size.

import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runReference, sizeOf, weightsOf } from '@hnet/format';
import { MODELS } from './models.js';

const ENGINES = ['hnet-materialized', 'hnet-streaming', 'ort-web', 'tfjs-wasm'];
const REPEATS = Number(process.env.REPEATS ?? 2);
const here = fileURLToPath(new URL('.', import.meta.url));

interface Result {
  engine: string; model: string; latencyMs: number; batchMs: number; throughput: number; peakRssDelta: number;
  linearMemory?: number; weights?: number; arena?: number; first: number[];
}

function runEngine(engine: string, model: string): Result {
  const out = execFileSync(process.execPath, ['--import', 'tsx', `${here}engine.ts`, engine, model], { encoding: 'utf8', cwd: here });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
}

const results: Result[] = [];
for (const model of Object.keys(MODELS)) {
  for (const engine of ENGINES) {
    let best: Result | null = null;
    for (let r = 0; r < REPEATS; r++) {
      const res = runEngine(engine, model);
      if (!best) best = res;
      else {
        best.latencyMs = Math.min(best.latencyMs, res.latencyMs);
        best.batchMs = Math.min(best.batchMs, res.batchMs);
        best.throughput = Math.max(best.throughput, res.throughput);
        best.peakRssDelta = Math.min(best.peakRssDelta, res.peakRssDelta);
      }
    }
    results.push(best!);
    process.stderr.write(`${model} ${engine}: ${best!.latencyMs.toFixed(3)} ms, ${best!.throughput.toFixed(0)} ex/s\n`);
  }
}

// Sanity: every engine computes the same function (first example, batch 1).
const mb = (b: number): string => (b / 2 ** 20).toFixed(2);
const lines: string[] = [];
for (const [model, make] of Object.entries(MODELS)) {
  const m = make();
  const shape = [1, ...m.inputs[0].shape.slice(1)];
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5 + 0.5;
  const expected = runReference(m, { x: { shape, data } }).y.data;
  let denseWeightBytes = 0;
  for (const n of m.nodes) {
    const w = weightsOf(n.op);
    if (w) denseWeightBytes += 4 * (sizeOf(w.weight.shape) + (w.bias ? sizeOf(w.bias.shape) : 0));
  }
  const of = (engine: string): Result => results.find((r) => r.model === model && r.engine === engine)!;
  const mat = of('hnet-materialized');
  const str = of('hnet-streaming');
  const ort = of('ort-web');
  lines.push(`### ${model} (dense weights ${mb(denseWeightBytes)} MiB)`, '');
  lines.push('| engine | latency batch 1 (ms) | throughput batch 64 (ex/s) | peak RSS delta (MiB) | wasm linear memory (MiB) | weights + arena (MiB) | max abs diff vs reference |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const engine of ENGINES) {
    const r = of(engine);
    let diff = 0;
    r.first.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - expected[i]))));
    lines.push(`| ${engine} | ${r.latencyMs.toFixed(3)} | ${r.throughput.toFixed(0)} | ${mb(r.peakRssDelta)} | ${r.linearMemory ? mb(r.linearMemory) : '-'} | ${r.weights !== undefined ? `${mb(r.weights!)} + ${mb(r.arena!)}` : '-'} | ${diff.toExponential(1)} |`);
  }
  lines.push('');
  lines.push(`- materialized vs ORT-web: latency ${(ort.latencyMs / mat.latencyMs).toFixed(2)}x as fast, throughput ${(mat.throughput / ort.throughput).toFixed(2)}x (target >= 1)`);
  lines.push(`- streaming / materialized time: batch 1 ${(str.latencyMs / mat.latencyMs).toFixed(2)}x (target <= 2), batch 64 ${(mat.throughput / str.throughput).toFixed(2)}x (target <= 1.25)`);
  lines.push(`- streaming weights + tile ${mb(str.weights!)} MiB, with the batch-64 arena ${mb(str.weights! + str.arena!)} MiB, vs dense weights ${mb(denseWeightBytes)} MiB (target: below)`);
  lines.push('');
}
const wasmSize = statSync(new URL('../../packages/runtime-wasm/build/hnet.wasm', import.meta.url)).size;
lines.push(`hnet.wasm (release): ${wasmSize} bytes (${(wasmSize / 1024).toFixed(1)} KiB).`);
const table = lines.join('\n');
console.log(table);
mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
writeFileSync(new URL('../out/runtime.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), results, wasmSize }, null, 1));
writeFileSync(new URL('../out/runtime.md', import.meta.url), table + '\n');
