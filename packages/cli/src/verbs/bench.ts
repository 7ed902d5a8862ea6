// hnet bench: latency and throughput of a .hnet per engine mode and batch size.

import { decode, formatBytes, formatCount, isIdentityNormalization, normalizeValues, readMetadata, readNormalization, sizeOf, weightsOf, type Normalization } from '@hnet/format';
import { HnetRuntimeError } from '@hnet/runtime-wasm';
import { parseInteger, UsageError } from '../args.js';
import { modelBytes, sessionError, table, toJson } from '../common.js';
import type { Engine, Mode, Session } from '../engines.js';
import { checkMode, ENGINE_FLAG, engineFromArgs } from '../flags/engine.js';
import { normalizationFromArgs, PREPROCESS_FLAGS } from '../flags/preprocessing.js';
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
 * reported; when no mode fits, the error is thrown. With a normalization,
 * each run first preprocesses its raw input by the format's rule, timed too.
 */
export async function benchModel(
  engine: Engine, file: string, bytes: Uint8Array, modes: Mode[], batches: number[], seconds = 1, memoryBudget?: number, normalization: Normalization | null = null,
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
        const size = sizeOf(input.shape.slice(1));
        const raw = Float32Array.from({ length: batch * size }, (_, i) => Math.sin(i));
        const shape = [batch, ...input.shape.slice(1)];
        const preprocess = normalization && !isIdentityNormalization(normalization) ? normalization : null;
        const once = () => session.run({ [input.name]: { shape, data: preprocess ? normalizeValues(raw, size, preprocess) : raw } });
        await once(); // warm-up: plans the arena for this batch size
        let runs = 0;
        const start = performance.now();
        while (performance.now() - start < seconds * 1000 || runs < 3) {
          await once();
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

/** Up to this batch, per-element streaming is its hashes: each call's pass of two hashes per virtual weight serves only these few examples. */
const SMALL_BATCH = 8;

/**
 * A note for a file whose weights hash per element, measured streaming at a
 * small batch: that mode recomputes two hashes per virtual weight on every
 * call, and block hashing (format 1.1) is the remedy; null otherwise.
 */
export function streamingHint(bytes: Uint8Array, rows: BenchRow[]): string | null {
  const small = rows.find((r) => r.mode === 'streaming' && r.batch <= SMALL_BATCH);
  if (!small) return null;
  let perElement = 0;
  for (const node of decode(bytes).nodes) {
    const w = weightsOf(node.op);
    if (w?.weight.hash?.algorithm === 'xxh32') perElement++;
  }
  if (perElement === 0) return null;
  const materialized = rows.find((r) => r.mode === 'materialized' && r.batch === small.batch);
  const ratio = materialized ? ` (${(small.msPerRun / materialized.msPerRun).toFixed(1)}× the materialized time)` : '';
  return `note: streaming at batch ${small.batch}${ratio}, this file's ${formatCount(perElement)} per-element-hashed (xxh32) weight(s) cost two hashes per virtual weight per call. `
    + 'Converted with --hash xxh32-aligned-block, a model streams contiguous runs of buckets, one hash per 32 or 64 weights, about as accurately (docs/RESULTS.md, "Block hashing").';
}

export const verb: Verb = {
  usage: 'hnet bench MODEL.hnet [--batch 1,64] [--mode materialized,streaming] [--engine NAME] [--seconds S] [--json]',
  description: [
    'The default engine is the WASM runtime, measured materialized and streaming unless --mode says',
    'otherwise. For the side-by-side comparison with onnxruntime-web and tfjs, see bench/runtime/',
    'and docs/RESULTS.md. The input is raw data preprocessed as the flags or the model\'s metadata',
    'say (hnet.input.normalization), timed as part of each run.',
  ].join('\n'),
  examples: ['hnet bench mnist-1-8.hnet', 'hnet bench lenet.hnet --batch 1,32,64 --mode streaming --json'],
  positionals: [1, 1],
  flags: [
    { name: 'batch', kind: 'string', value: 'LIST', help: 'batch sizes, comma-separated (default 1,64)' },
    { name: 'mode', kind: 'string', value: 'LIST', help: 'materialized, streaming, auto, comma-separated (default: materialized,streaming for wasm)' },
    ENGINE_FLAG,
    { name: 'seconds', kind: 'string', value: 'S', help: 'time per measurement (default 1)' },
    ...PREPROCESS_FLAGS,
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
    const bytes = modelBytes(file);
    const normalization = normalizationFromArgs(args) ?? readNormalization(readMetadata(bytes));
    const { rows, skipped } = await benchModel(engine, file, bytes, modes, batches, seconds, memoryBudget, normalization);
    // On stderr, so that --json stays the list of measured rows.
    for (const s of skipped) io.err(`${s.mode}: skipped, does not fit: ${s.reason}`);
    const showBytes = (n: number | null): string => (n === null ? '-' : formatBytes(n));
    io.out(args.booleans.has('json') ? toJson(rows) : table(['mode', 'batch', 'ms / run', 'examples / s', 'weights', 'activations'], rows.map((r) => [
      r.mode, String(r.batch), r.msPerRun.toFixed(3), r.examplesPerSecond.toFixed(0), showBytes(r.weightBytes), showBytes(r.arenaBytes),
    ])));
    const hint = streamingHint(bytes, rows);
    if (hint) io.err(hint);
  },
};
