// Attributes shared by the windowed ops (Conv, ConvTranspose, MaxPool, AveragePool).

import { BATCH, type Pads4, type Pair } from '@hnet/format';
import { ints, string } from '../attributes.js';
import { refuse } from '../refusal.js';

export const WINDOW_ATTRIBUTES = {
  auto_pad: string('NOTSET'), dilations: ints(), kernel_shape: ints(), pads: ints(), strides: ints(),
};

/** Strides or dilations of a 2-D window: two positive integers (0 would divide by zero in the output size). */
export function pair(v: number[] | null, what: string, fallback = 1): Pair {
  if (v === null) return [fallback, fallback];
  if (v.length !== 2) refuse(`${what} [${v}] must have 2 entries for 2-D windows`);
  if (!v.every((x) => Number.isInteger(x) && x >= 1)) refuse(`${what} [${v}] must be positive integers`);
  return [v[0], v[1]];
}

/** Explicit pads, or the ones auto_pad stands for (needs the input's H and W). */
export function windowPads(
  attrs: { auto_pad: string; pads: number[] | null }, shape: number[], kernel: Pair, strides: Pair, dilations: Pair,
): Pads4 {
  const autoPad = attrs.auto_pad;
  if (autoPad === 'NOTSET') {
    const p = attrs.pads ?? [0, 0, 0, 0];
    if (p.length !== 4) refuse(`pads [${p}] must have 4 entries for 2-D windows`);
    if (p.some((v) => v < 0)) refuse(`negative pads [${p}] are not supported`);
    return p as Pads4;
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') refuse(`auto_pad "${autoPad}" is not supported`);
  const pads: number[] = [0, 0, 0, 0];
  for (let i = 0; i < 2; i++) {
    const size = shape[2 + i];
    if (size === undefined || size === BATCH) refuse(`auto_pad ${autoPad} needs a known input size, got [${shape}]`);
    const total = Math.max(0, (Math.ceil(size / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
    const small = Math.floor(total / 2);
    pads[i] = autoPad === 'SAME_UPPER' ? small : total - small; // begin
    pads[i + 2] = total - pads[i]; // end
  }
  return pads as Pads4;
}
