// Resize and Upsample of the spatial dimensions H, W of [N, C, H, W]:
// nearest and (bi)linear, by scales or by output sizes.

import { BATCH, type ResizeOp } from '@hnet/format';
import { float, floats, int, ints, string } from '../attributes.js';
import { converter, LATEST_OPSET, type ConvertContext } from '../converter.js';
import { plainValues } from '../known.js';
import { refuse } from '../refusal.js';

const COORDINATES: ResizeOp['coordinates'][] = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'];
const NEAREST: ResizeOp['nearest'][] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

function modeOf(mode: string): ResizeOp['mode'] {
  if (mode === 'nearest') return 'nearest';
  if (mode === 'linear' || mode === 'bilinear') return 'linear';
  return refuse(`mode "${mode}" is not supported (nearest or linear)`);
}

/** [scale_h, scale_w] from scales [1, 1, sh, sw] or from output sizes [N, C, OH, OW]. */
function spatialScales(ctx: ConvertContext, x: string, scales: number[] | null, sizes: number[] | null): [number, number] {
  const shape = ctx.shape(x);
  if (shape.length !== 4) refuse(`only 4-D inputs [N, C, H, W] are supported, got [${shape}]`);
  if (scales && scales.length) {
    if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) refuse(`scales [${scales}] must be [1, 1, scale_h, scale_w]`);
    if (!(scales[2] > 0 && scales[3] > 0)) refuse(`scales [${scales}] must be positive`);
    return [scales[2], scales[3]];
  }
  if (!sizes) return refuse('neither scales nor sizes is given');
  if (sizes.length !== 4 || (sizes[1] !== shape[1])) refuse(`sizes [${sizes}] must be [N, C, OH, OW] with the input's channels`);
  if (shape[2] === BATCH || shape[3] === BATCH) refuse('resizing to sizes needs known H and W');
  const s: [number, number] = [sizes[2] / shape[2], sizes[3] / shape[3]];
  // hnet stores scales: the output size must come back as floor(size · scale).
  if (Math.floor(shape[2] * s[0]) !== sizes[2] || Math.floor(shape[3] * s[1]) !== sizes[3]) refuse(`sizes [${sizes}] cannot be stored as scales of [${shape}]`);
  return s;
}

export const resize = converter({
  opTypes: ['Resize'],
  opsets: [10, LATEST_OPSET],
  attributes: {
    mode: string('nearest'), coordinate_transformation_mode: string('half_pixel'), nearest_mode: string('round_prefer_floor'),
    cubic_coeff_a: float(-0.75), exclude_outside: int(0), extrapolation_value: float(0),
    antialias: int(0), axes: ints(), keep_aspect_ratio_policy: string('stretch'),
  },
  convert(ctx) {
    const x = ctx.data(0);
    const a = ctx.attrs;
    if (a.antialias) refuse('antialias=1 is not supported');
    if (a.axes) refuse('the axes attribute (opset 18) is not supported');
    if (a.exclude_outside) refuse('exclude_outside=1 is not supported');
    const known = (i: number, what: string): number[] | null => {
      if (!ctx.has(i)) return null;
      const v = plainValues(ctx.constant(i, what), what);
      return v.length ? [...v] : null;
    };
    // Opset 10: (X, scales), asymmetric coordinates, nearest rounds down. From 11: (X, roi, scales, sizes).
    const opset10 = ctx.opset < 11;
    const scales = known(opset10 ? 1 : 2, 'scales');
    const sizes = opset10 ? null : known(3, 'sizes');
    const coordinates = opset10 ? 'asymmetric' : a.coordinate_transformation_mode;
    if (!COORDINATES.includes(coordinates as ResizeOp['coordinates'])) refuse(`coordinate_transformation_mode "${coordinates}" is not supported`);
    const nearest = opset10 ? 'floor' : a.nearest_mode;
    if (!NEAREST.includes(nearest as ResizeOp['nearest'])) refuse(`nearest_mode "${nearest}" is not supported`);
    ctx.emit({
      type: 'Resize', mode: modeOf(a.mode), coordinates: coordinates as ResizeOp['coordinates'],
      nearest: nearest as ResizeOp['nearest'], scales: spatialScales(ctx, x, scales, sizes),
    }, [x]);
  },
});

/** Upsample (opsets 7–9, deprecated by Resize): asymmetric coordinates, nearest rounds down. */
export const upsample = converter({
  opTypes: ['Upsample'],
  opsets: [7, 9],
  attributes: { mode: string('nearest'), scales: floats() },
  convert(ctx) {
    const x = ctx.data(0);
    const scales = ctx.opset < 9 ? ctx.attrs.scales : [...plainValues(ctx.constant(1, 'scales'), 'scales')];
    ctx.emit({
      type: 'Resize', mode: modeOf(ctx.attrs.mode), coordinates: 'asymmetric', nearest: 'floor',
      scales: spatialScales(ctx, x, scales, null),
    }, [x]);
  },
});
