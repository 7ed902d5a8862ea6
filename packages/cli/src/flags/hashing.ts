// The hashing flags shared by `hnet convert` and `hnet train`, and the
// HashPolicy they make.

import { DEFAULT_BLOCK, DEFAULT_MIN_VIRTUAL, type HashPolicy } from '@hnet/convert';
import { MAX_ALIGNED_BLOCK, MAX_BLOCK, RUN_ALIGN, type HashSpec } from '@hnet/format';
import { parseFraction, parseInteger, UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
import { dtypeFlag, storageFromArgs } from './storage.js';

export const HASHING_FLAGS: FlagSpec[] = [
  { name: 'compression', short: 'c', kind: 'string', value: 'FRACTION', help: 'real / virtual weights per hashed layer: 1/8, 0.125, 12.5% (default 1: no hashing)' },
  { name: 'buckets', kind: 'list', value: 'NAME=K', help: 'hash layer NAME with exactly K buckets (repeatable)' },
  { name: 'dense', kind: 'list', value: 'NAME', help: 'keep layer NAME dense (repeatable)' },
  { name: 'min-virtual', kind: 'string', value: 'N', help: `layers with fewer virtual weights stay dense (default ${DEFAULT_MIN_VIRTUAL})` },
  { name: 'hash', kind: 'string', value: 'ALGO', help: 'hash function: xxh32 (default: one hash per weight), xxh32-block (one per block of --block columns; format 1.1, faster streaming) or xxh32-aligned-block (its runs on 4-bucket boundaries, one hash per block; format 1.2, fastest streaming)' },
  { name: 'block', kind: 'string', value: 'Z', help: `with a block hash: columns per hash, 1..${MAX_BLOCK} (aligned: a multiple of ${RUN_ALIGN} up to ${MAX_ALIGNED_BLOCK}; default ${DEFAULT_BLOCK}, aligned: 64 or 32 per layer)` },
  { name: 'seed', kind: 'string', value: 'N', help: 'uint32 seed; each layer derives its own bucket and sign seeds (default 0)' },
  { name: 'hash-bias', kind: 'boolean', help: 'also hash the biases of hashed layers' },
  { name: 'no-sign', kind: 'boolean', help: 'no sign hash (every ξ = +1)' },
  { name: 'bucket-dtype', kind: 'string', value: 'TYPE', help: 'bucket storage: float32 (default), float16, int8, int4 (two per byte; format 1.1); int8/int4 retrain quantization-aware' },
];

/** The hash functions a file can use, as --hash and frontier's --hashes name them. */
export const HASH_ALGORITHMS: readonly HashSpec['algorithm'][] = ['xxh32', 'xxh32-block', 'xxh32-aligned-block'];

/** A --hash (or --hashes item) value, checked. */
export function hashAlgorithmOf(text: string, flag: string): HashSpec['algorithm'] {
  if (!HASH_ALGORITHMS.includes(text as HashSpec['algorithm'])) throw new UsageError(`--${flag} takes ${HASH_ALGORITHMS.join(', ')}, got "${text}"`);
  return text as HashSpec['algorithm'];
}

/**
 * --block: Z of the block hashes among `hashes`, or null when not given (each
 * algorithm's default); a usage error when none of them takes one, or Z does
 * not suit one of them.
 */
export function blockFlagOf(args: ParsedArgs, hashes: readonly HashSpec['algorithm'][], hashFlag: string): number | null {
  const flag = args.strings.get('block');
  if (flag === undefined) return null;
  if (hashes.every((h) => h === 'xxh32')) throw new UsageError(`--block needs a block hash in --${hashFlag} (xxh32-block or xxh32-aligned-block)`);
  const block = parseInteger(flag, 'block', 1, MAX_ALIGNED_BLOCK);
  if (hashes.includes('xxh32-block') && block > MAX_BLOCK) throw new UsageError(`--block ${block}: xxh32-block takes 1..${MAX_BLOCK}`);
  if (hashes.includes('xxh32-aligned-block') && block % RUN_ALIGN !== 0) {
    throw new UsageError(`--block ${block}: xxh32-aligned-block takes a multiple of ${RUN_ALIGN} (4, 8, .., ${MAX_ALIGNED_BLOCK})`);
  }
  return block;
}

/** A HashPolicy from the command line (with the dense storage of STORAGE_FLAGS). */
export function policyFromArgs(args: ParsedArgs): HashPolicy {
  const hash = hashAlgorithmOf(args.strings.get('hash') ?? 'xxh32', 'hash');
  const block = blockFlagOf(args, [hash], 'hash');
  const dtype = dtypeFlag(args, 'bucket-dtype') ?? 'float32';
  const buckets: Record<string, number> = {};
  for (const item of args.lists.get('buckets') ?? []) {
    const eq = item.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--buckets takes NAME=K, got "${item}"`);
    buckets[item.slice(0, eq)] = parseInteger(item.slice(eq + 1), 'buckets', 1, 0xffffffff);
  }
  return {
    compression: parseFraction(args.strings.get('compression') ?? '1', 'compression'),
    buckets,
    dense: args.lists.get('dense') ?? [],
    seed: parseInteger(args.strings.get('seed') ?? '0', 'seed', 0, 0xffffffff),
    hashBias: args.booleans.has('hash-bias'),
    minVirtual: parseInteger(args.strings.get('min-virtual') ?? String(DEFAULT_MIN_VIRTUAL), 'min-virtual', 0, Number.MAX_SAFE_INTEGER),
    bucketDtype: dtype,
    signed: !args.booleans.has('no-sign'),
    hash,
    ...(hash === 'xxh32' || block === null ? {} : { block }),
    ...storageFromArgs(args).policy,
  };
}
