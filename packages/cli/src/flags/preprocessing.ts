// The input-preprocessing flags shared by convert, train, eval, run and
// bench: a preset and/or scale, mean and std, resolved by @hnet/format into
// the Normalization that the .hnet records and every reader applies.

import { HnetFormatError, resolveNormalization, type Normalization } from '@hnet/format';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args.js';

export const PREPROCESS_FLAGS: FlagSpec[] = [
  { name: 'preprocess', kind: 'string', value: 'PRESET', help: 'input preprocessing: pixel/255 (x/255), imagenet (x/255, ImageNet mean/std per channel) or none' },
  { name: 'input-scale', kind: 'string', value: 'S', help: 'multiply raw inputs by S (1/255, 0.5, ...), before --mean/--std' },
  { name: 'mean', kind: 'string', value: 'M[,M..]', help: 'then subtract M: one value, or one per channel (axis 1 of NCHW)' },
  { name: 'std', kind: 'string', value: 'S[,S..]', help: 'then divide by S: one value, or one per channel' },
];

export const PREPROCESS_HELP =
  'Preprocessing: x = (raw · scale − mean[c]) / std[c]. Given flags are recorded in the .hnet; without them the\n' +
  "model's recorded preprocessing is used, and for byte data (IDX) and a model that records none, the one under\n" +
  'which the dense model scores best on the labelled data (printed; an error with the flags to add if none works).';

function number(text: string, flag: string): number {
  const t = text.trim();
  const slash = /^([+-]?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(t);
  const v = slash ? Number(slash[1]) / Number(slash[2]) : t === '' ? NaN : Number(t);
  if (!Number.isFinite(v)) throw new UsageError(`--${flag} takes numbers such as 0.5 or 1/255, got "${text}"`);
  return v;
}

const list = (text: string | undefined, flag: string): number[] | undefined => (text === undefined ? undefined : text.split(',').map((p) => number(p, flag)));

/** The preprocessing the flags give, or null when none is given. */
export function normalizationFromArgs(args: ParsedArgs): Normalization | null {
  const scale = args.strings.get('input-scale');
  try {
    return resolveNormalization({
      preset: args.strings.get('preprocess'),
      scale: scale === undefined ? undefined : number(scale, 'input-scale'),
      mean: list(args.strings.get('mean'), 'mean'),
      std: list(args.strings.get('std'), 'std'),
    });
  } catch (e) {
    if (e instanceof HnetFormatError) throw new UsageError(e.message);
    throw e;
  }
}
