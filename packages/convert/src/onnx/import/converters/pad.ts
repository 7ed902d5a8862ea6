// Pad in constant mode. A Pad that pads nothing disappears; a zero Pad of H
// and W before a Conv/AveragePool is folded into its pads by a pass
// (../passes/pad.ts).

import { float, ints, string } from '../attributes.js';
import { converter, LATEST_OPSET } from '../converter.js';
import { intList, plainValues } from '../known.js';
import { refuse } from '../refusal.js';

export const pad = converter({
  opTypes: ['Pad'],
  opsets: [1, LATEST_OPSET],
  attributes: { mode: string('constant'), pads: ints(), value: float(0), paddings: ints() },
  convert(ctx) {
    const x = ctx.data(0);
    const rank = ctx.shape(x).length;
    let pads: number[];
    let value = 0;
    if (ctx.opset < 11) {
      pads = ctx.attrs.pads ?? ctx.attrs.paddings ?? refuse('missing attribute "pads"');
      value = ctx.attrs.value;
    } else {
      pads = intList(ctx.constant(1, 'the pads input'), 'pads');
      if (ctx.has(2)) value = plainValues(ctx.constant(2, 'constant_value'), 'constant_value')[0] ?? 0;
      if (ctx.has(3)) {
        // opset 18: pads for the listed axes only.
        const axes = intList(ctx.constant(3, 'axes'), 'axes').map((a) => (a < 0 ? a + rank : a));
        const full = new Array<number>(2 * rank).fill(0);
        axes.forEach((a, i) => {
          full[a] = pads[i];
          full[a + rank] = pads[i + axes.length];
        });
        pads = full;
      }
    }
    if (pads.every((p) => p === 0)) {
      ctx.alias(ctx.out, x);
      return ctx.note(`Pad ${ctx.label} removed (pads nothing)`);
    }
    const mode = ctx.attrs.mode;
    if (mode !== 'constant') refuse(`mode "${mode}" is not supported; hnet pads with a constant`);
    if (pads.length !== 2 * rank) refuse(`pads [${pads}] must have 2 entries per dimension of a rank-${rank} input`);
    if (pads.some((p) => p < 0)) refuse(`negative pads [${pads}] (cropping) are not supported`);
    if (pads[0] !== 0 || pads[rank] !== 0) refuse('padding the batch axis is not supported');
    ctx.emit({ type: 'Pad', pads, value }, [x]);
  },
});
