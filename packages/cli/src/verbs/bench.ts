// hnet bench: latency and throughput of a .hnet per engine mode and batch size.

import { formatBytes, sizeOf } from '@hnet/format';
import { HnetRuntimeError } from '@hnet/runtime-wasm';
import { parseInteger, UsageError } from '../args.js';
import { modelBytes, sessionError, table, toJson } from '../common.js';
import type { Engine, Mode, Session } from '../engines.js';
import { checkMode, ENGINE_FLAG, engineFromArgs } from '../flags/engine.js';
import type { Verb } from '../verb.js';

export interface BenchRow {
  mode: string; // as the session reports it: materialized, streaming (wasm), reference
  batch: number;
  msPerRun: number;
  examplesPerSecond: number;
  weightBytes: number | null; // null when the engine does not report memory
  arenaBytes: number | null;
}

/** A mode that could not run: the model does not fit the memory budget that way. */
export interface SkippedMode {
  mode: Mode;
  reason: string;
}

/**
 * Times session.run at each batch size in each mode: a warm-up, then runs
 * for about `seconds`. A mode whose weights or activations do not fit the
 * memory budget is skipped with the reason, so the other mode is still
 * reported; when no mode fits, the error is thrown.
 */
export async function benchModel(
  engine: Engine, file: string, bytes: Uint8Array, modes: Mode[], batches: number[], seconds = 1, memoryBudget?: number,
): Promise<{ rows: BenchRow[]; skipped: SkippedMode[] }> {
  const rows: BenchRow[] = [];
  const skipped: SkippedMode[] = [];
  for (const mode of modes) {
    let session: Session;
    try {
      session = await engine.load(bytes, { mode, memoryBudget });
    } catch (e) {
      const tooBig = e instanceof HnetRuntimeError && (e.codeName === 'budget' || e.codeName === 'memory');
      if (!tooBig || skipped.length + 1 === modes.length) throw sessionError(file, e);
      skipped.push({ mode, reason: e.message });
      continue;
    }
    try {
      const input = session.info.inputs[0];
      for (const batch of batches) {
        const data = Float32Array.from({ length: batch * sizeOf(input.shape.slice(1)) }, (_, i) => Math.sin(i));
        const feed = { [input.name]: { shape: [batch, ...input.shape.slice(1)], data } };
        await session.run(feed); // warm-up: plans the arena for this batch size
        let runs = 0;
        const start = performance.now();
        while (performance.now() - start < seconds * 1000 || runs < 3) {
          await session.run(feed);
          runs++;
        }
        const ms = (performance.now() - start) / runs;
        const { memory } = session.info;
        rows.push({ mode: session.info.mode, batch, msPerRun: ms, examplesPerSecond: (batch * 1000) / ms, weightBytes: memory?.weights ?? null, arenaBytes: memory?.arena ?? null });
      }
    } finally {
      session.dispose();
    }
  }
  return { rows, skipped };
}

export const verb: Verb = {
  usage: 'hnet bench MODEL.hnet [--batch 1,64] [--mode materialized,streaming] [--engine NAME] [--seconds S] [--json]',
  description: [
    'The default engine is the WASM runtime, measured materialized and streaming unless --mode says',
    'otherwise. For the side-by-side comparison with onnxruntime-web and tfjs, see bench/runtime/',
    'and docs/RESULTS.md.',
  ].join('\n'),
  examples: ['hnet bench mnist-1-8.hnet', 'hnet bench lenet.hnet --batch 1,32,64 --mode streaming --json'],
  positionals: [1, 1],
  flags: [
    { name: 'batch', kind: 'string', value: 'LIST', help: 'batch sizes, comma-separated (default 1,64)' },
    { name: 'mode', kind: 'string', value: 'LIST', help: 'materialized, streaming, auto, comma-separated (default: materialized,streaming for wasm)' },
    ENGINE_FLAG,
    { name: 'seconds', kind: 'string', value: 'S', help: 'time per measurement (default 1)' },
    { name: 'memory-budget', kind: 'string', value: 'BYTES', help: "the WASM runtime's budget for weights + activations (default 1 GiB)" },
    { name: 'json', kind: 'boolean', help: 'print the rows as JSON' },
  ],
  async run(args, io) {
    const file = args.positionals[0];
    const engine = engineFromArgs(args);
    const batches = (args.strings.get('batch') ?? '1,64').split(',').map((b) => parseInteger(b, 'batch', 1, 65536));
    // Every mode the engine has besides auto, unless --mode picks.
    const fixed = engine.modes.filter((m) => m !== 'auto');
    const modes = args.strings.has('mode')
      ? args.strings.get('mode')!.split(',').map((m) => checkMode(m, engine))
      : fixed.length ? fixed : ['auto' as const];
    const seconds = Number(args.strings.get('seconds') ?? '1');
    if (!(seconds > 0 && seconds <= 600)) throw new UsageError(`--seconds must be in (0, 600], got "${args.strings.get('seconds')}"`);
    const budget = args.strings.get('memory-budget');
    const memoryBudget = budget === undefined ? undefined : parseInteger(budget, 'memory-budget', 1, 0xffffffff);
    const { rows, skipped } = await benchModel(engine, file, modelBytes(file), modes, batches, seconds, memoryBudget);
    // On stderr, so that --json stays the list of measured rows.
    for (const s of skipped) io.err(`${s.mode}: skipped, does not fit: ${s.reason}`);
    if (args.booleans.has('json')) {
      io.out(toJson(rows));
      return;
    }
    const bytes = (n: number | null): string => (n === null ? '-' : formatBytes(n));
    io.out(table(['mode', 'batch', 'ms / run', 'examples / s', 'weights', 'activations'], rows.map((r) => [
      r.mode, String(r.batch), r.msPerRun.toFixed(3), r.examplesPerSecond.toFixed(0), bytes(r.weightBytes), bytes(r.arenaBytes),
    ])));
  },
};
