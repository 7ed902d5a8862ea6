// The average-pool divisor shared by both engines, so that they divide alike.

import type { AveragePoolOp } from '@hnet/format';

/** Divisor of each average-pool window [OH·OW]: the cells inside the input (and its explicit pads, if counted). */
export function averageDivisor(xShape: readonly number[], op: AveragePoolOp, outH: number, outW: number): Float32Array {
  const [, , h, w] = xShape;
  const [kh, kw] = op.kernel;
  const [sh, sw] = op.strides;
  const [pt, pl, pb, pr] = op.pads;
  const lo = op.countIncludePad ? -pt : 0;
  const hiH = op.countIncludePad ? h + pb : h;
  const loW = op.countIncludePad ? -pl : 0;
  const hiW = op.countIncludePad ? w + pr : w;
  const div = new Float32Array(outH * outW);
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const h0 = oh * sh - pt;
      const w0 = ow * sw - pl;
      const rows = Math.min(h0 + kh, hiH) - Math.max(h0, lo);
      const cols = Math.min(w0 + kw, hiW) - Math.max(w0, loW);
      div[oh * outW + ow] = Math.max(rows, 0) * Math.max(cols, 0);
    }
  }
  return div;
}
