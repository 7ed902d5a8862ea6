// How a written .hnet stores what is not buckets, shared by `hnet convert`, `hnet train` and
// `hnet frontier`: the dtype of dense biases and dense layer weights, and --strip (drop what is
// informational: node names, long tensor names, provenance metadata; @hnet/convert's stripModel).

import type { HashPolicy } from '@hnet/convert';
import type { DType } from '@hnet/format';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args.js';

export const DTYPES: readonly DType[] = ['float32', 'float16', 'int8', 'int4'];

export const STORAGE_FLAGS: FlagSpec[] = [
  { name: 'bias-dtype', kind: 'string', value: 'TYPE', help: 'storage of dense biases: float32 (default), float16, int8, int4 (one scale per bias; int8/int4 trained quantization-aware)' },
  { name: 'dense-dtype', kind: 'string', value: 'TYPE', help: 'storage of the layer weights that stay dense: float32 (default), float16, int8, int4 (one scale per weight; int8/int4 trained quantization-aware)' },
  { name: 'strip', kind: 'boolean', help: 'write only what running the model needs: no node names, short tensor names, no provenance or training metadata' },
];

/** What the storage flags ask for: the policy fields, and whether to strip. */
export interface Storage {
  policy: Pick<HashPolicy, 'biasDtype' | 'denseDtype'>;
  strip: boolean;
}

/** A dtype flag's value, or undefined when not given. */
export function dtypeFlag(args: ParsedArgs, flag: string): DType | undefined {
  const text = args.strings.get(flag);
  if (text === undefined) return undefined;
  if (!DTYPES.includes(text as DType)) throw new UsageError(`--${flag} must be one of ${DTYPES.join(', ')}, got "${text}"`);
  return text as DType;
}

export function storageFromArgs(args: ParsedArgs): Storage {
  const biasDtype = dtypeFlag(args, 'bias-dtype');
  const denseDtype = dtypeFlag(args, 'dense-dtype');
  return {
    policy: { ...(biasDtype ? { biasDtype } : {}), ...(denseDtype ? { denseDtype } : {}) },
    strip: args.booleans.has('strip'),
  };
}
