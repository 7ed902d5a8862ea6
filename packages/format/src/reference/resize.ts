// Which input elements a Resize reads along one spatial axis: ONNX's
// coordinate_transformation_mode and nearest_mode (opset 13), defined once.
// The reference forward pass and both trainers call these; the WASM runtime's
// twin (packages/runtime-wasm/assembly/layout.ts, fillAxis) follows the same
// rules and is tested against the reference.

import type { ResizeOp } from '../model.js';

/**
 * The input coordinate that output coordinate `outCoord` samples, with the
 * scale as given (not the size ratio; float32, as the file stores it).
 */
export function resizeSource(
  mode: ResizeOp['coordinates'], outCoord: number, scale: number, inSize: number, outSize: number,
): number {
  switch (mode) {
    case 'half_pixel':
      return (outCoord + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (outCoord + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outSize === 1 ? 0 : (outCoord * (inSize - 1)) / (outSize - 1);
    case 'asymmetric':
      return outCoord / scale;
  }
}

/** The input index nearest a source coordinate (nearest_mode), clamped to the input. */
export function resizeNearest(mode: ResizeOp['nearest'], source: number, inSize: number): number {
  const tie = source - Math.floor(source) === 0.5;
  const rounded =
    mode === 'floor' ? Math.floor(source)
    : mode === 'ceil' ? Math.ceil(source)
    : tie ? (mode === 'round_prefer_floor' ? Math.floor(source) : Math.ceil(source))
    : Math.round(source);
  return Math.min(Math.max(rounded, 0), inSize - 1);
}

/**
 * The two input indices a linear resize blends around a source coordinate
 * (clamped to the input), and the weight `t` of the second:
 * y = x[low] · (1 − t) + x[high] · t.
 */
export function resizeLinear(source: number, inSize: number): { low: number; high: number; t: number } {
  const clamped = Math.min(Math.max(source, 0), inSize - 1);
  const low = Math.floor(clamped);
  return { low, high: Math.min(low + 1, inSize - 1), t: clamped - low };
}
