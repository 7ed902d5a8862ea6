// hnet bench: latency and throughput of a .hnet in the WASM runtime, per mode and batch size.

import { sizeOf, type Model } from '@hnet/format';
import { HnetRuntimeError, loadModel } from '@hnet/runtime-wasm';
import { parseInteger, UsageError } from '../args.js';
import { formatBytes, loadHnet, table, toJson } from '../common.js';
import type { Verb } from '../verb.js';

export interface BenchRow {
  mode: 'materialized' | 'streaming';
  batch: number;
  msPerRun: number;
  examplesPerSecond: number;
  weightBytes: number;
  arenaBytes: number;
}

/** A mode that could not run: the model does not fit the memory budget that way. */
export interface SkippedMode {
  mode: BenchRow['mode'];
  reason: string;
}

/**
 * Times model.run at each batch size in each mode: a warm-up, then runs for
 * about `seconds`. A mode whose weights or activations do not fit the memory
 * budget is skipped with the reason, so the other mode is still reported;
 * when no mode fits, the runtime's error is thrown.
 */
export async function benchModel(
  bytes: Uint8Array, model: Model, modes: BenchRow['mode'][], batches: number[], seconds = 1, memoryBudget?: number,
): Promise<{ rows: BenchRow[]; skipped: SkippedMode[] }> {
  const input = model.inputs[0];
  const rows: BenchRow[] = [];
  const skipped: SkippedMode[] = [];
  for (const mode of modes) {
    let runtime;
    try {
      runtime = await loadModel(bytes, { mode, memoryBudget });
    } catch (e) {
      const tooBig = e instanceof HnetRuntimeError && (e.codeName === 'budget' || e.codeName === 'memory');
      if (!tooBig || skipped.length + 1 === modes.length) throw e;
      skipped.push({ mode, reason: e.message });
      continue;
    }
    try {
      for (const batch of batches) {
        const data = Float32Array.from({ length: batch * sizeOf(input.shape.slice(1)) }, (_, i) => Math.sin(i));
        const feed = { [input.name]: { shape: [batch, ...input.shape.slice(1)], data } };
        runtime.run(feed); // warm-up: plans the arena for this batch size
        let runs = 0;
        const start = performance.now();
        while (performance.now() - start < seconds * 1000 || runs < 3) {
          runtime.run(feed);
          runs++;
        }
        const ms = (performance.now() - start) / runs;
        rows.push({ mode, batch, msPerRun: ms, examplesPerSecond: (batch * 1000) / ms, weightBytes: runtime.info.memory.weights, arenaBytes: runtime.info.memory.arena });
      }
    } finally {
      runtime.dispose();
    }
  }
  return { rows, skipped };
}

export const benchVerb: Verb = {
  name: 'bench',
  summary: 'latency and throughput of a .hnet in the WASM runtime (materialized and streaming)',
  usage: 'hnet bench MODEL.hnet [--batch 1,64] [--mode materialized,streaming] [--seconds S] [--json]',
  description: 'For the side-by-side comparison with onnxruntime-web and tfjs, see bench/runtime/ and docs/RESULTS.md.',
  examples: ['hnet bench mnist-1-8.hnet', 'hnet bench lenet.hnet --batch 1,32,64 --mode streaming --json'],
  positionals: [1, 1],
  flags: [
    { name: 'batch', kind: 'string', value: 'LIST', help: 'batch sizes, comma-separated (default 1,64)' },
    { name: 'mode', kind: 'string', value: 'LIST', help: 'materialized, streaming or both (default both)' },
    { name: 'seconds', kind: 'string', value: 'S', help: 'time per measurement (default 1)' },
    { name: 'memory-budget', kind: 'string', value: 'BYTES', help: "the runtime's memory budget for weights + activations (default 1 GiB)" },
    { name: 'json', kind: 'boolean', help: 'print the rows as JSON' },
  ],
  async run(args, io) {
    const { model, bytes } = loadHnet(args.positionals[0]);
    const batches = (args.strings.get('batch') ?? '1,64').split(',').map((b) => parseInteger(b, 'batch', 1, 65536));
    const modes = (args.strings.get('mode') ?? 'materialized,streaming').split(',') as BenchRow['mode'][];
    for (const m of modes) if (m !== 'materialized' && m !== 'streaming') throw new UsageError(`--mode takes materialized and/or streaming, got "${m}"`);
    const seconds = Number(args.strings.get('seconds') ?? '1');
    if (!(seconds > 0 && seconds <= 600)) throw new UsageError(`--seconds must be in (0, 600], got "${args.strings.get('seconds')}"`);
    const budget = args.strings.get('memory-budget');
    const memoryBudget = budget === undefined ? undefined : parseInteger(budget, 'memory-budget', 1, 0xffffffff);
    const { rows, skipped } = await benchModel(bytes, model, modes, batches, seconds, memoryBudget);
    // On stderr, so that --json stays the list of measured rows.
    for (const s of skipped) io.err(`${s.mode}: skipped, does not fit: ${s.reason}`);
    if (args.booleans.has('json')) {
      io.out(toJson(rows));
      return;
    }
    io.out(table(['mode', 'batch', 'ms / run', 'examples / s', 'weights', 'activations'], rows.map((r) => [
      r.mode, String(r.batch), r.msPerRun.toFixed(3), r.examplesPerSecond.toFixed(0), formatBytes(r.weightBytes), formatBytes(r.arenaBytes),
    ])));
  },
};
