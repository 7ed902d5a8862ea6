// Shape arithmetic: Shape of a computed tensor is known at import, its batch
// dimension as 1·N; ConstantOfShape, Range and Cast evaluate on known values.

import { BATCH } from '@hnet/format';
import { int, tensor } from '../attributes.js';
import { converter, LATEST_OPSET } from '../converter.js';
import { count, elementwise, fromConst, plainValues, roundTo, sizeList } from '../known.js';
import { DataType, dataTypeName } from '../../proto.js';
import { refuse } from '../refusal.js';
import { readTensor } from '../../tensors.js';

/** Shape's start/end (opset 15), clamped as ONNX does. */
function shapeRange(rank: number, start: number, end: number | null): [number, number] {
  const clamp = (v: number): number => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  return [clamp(start), clamp(end ?? rank)];
}

export const shape = converter({
  opTypes: ['Shape'],
  opsets: [1, LATEST_OPSET],
  attributes: { start: int(0), end: int(null) },
  convert(ctx) {
    const x = ctx.data(0);
    const dims = ctx.shape(x);
    const [from, to] = shapeRange(dims.length, ctx.attrs.start, ctx.attrs.end);
    const part = dims.slice(from, to);
    const scale = ctx.batchScale(x);
    ctx.define(ctx.out, {
      dims: [part.length],
      dataType: DataType.INT64,
      values: Float64Array.from(part, (d) => (d === BATCH ? 0 : d)),
      batch: part.includes(BATCH) ? Float64Array.from(part, (d) => (d === BATCH ? scale : 0)) : null,
    });
  },
  fold(ctx, [x]) {
    const [from, to] = shapeRange(x!.dims.length, ctx.attrs.start, ctx.attrs.end);
    const part = x!.dims.slice(from, to);
    return [{ dims: [part.length], dataType: DataType.INT64, values: Float64Array.from(part), batch: null }];
  },
});

const onlyKnown = (op: string) => (): never => refuse(`${op} is only supported on shapes and constants (folded at import)`);

export const constantOfShape = converter({
  opTypes: ['ConstantOfShape'],
  opsets: [9, LATEST_OPSET],
  attributes: { value: tensor() },
  convert: onlyKnown('ConstantOfShape'),
  fold(ctx, [s]) {
    const dims = sizeList(s!, 'the shape');
    ctx.budget.charge(count(dims), `a ConstantOfShape of [${dims}]`);
    const value = ctx.attrs.value ? fromConst(readTensor(ctx.attrs.value, null, `${ctx.label}: attribute value`)) : null;
    if (value && value.values.length !== 1) refuse(`attribute value must hold one value, got ${value.values.length}`);
    const fill = value ? value.values[0] : 0;
    return [{ dims, dataType: value?.dataType ?? DataType.FLOAT, values: new Float64Array(count(dims)).fill(fill), batch: null }];
  },
});

export const range = converter({
  opTypes: ['Range'],
  opsets: [11, LATEST_OPSET],
  attributes: {},
  convert: onlyKnown('Range'),
  fold(ctx, [start, limit, delta]) {
    const [s, l, d] = [start, limit, delta].map((k, i) => plainValues(k!, ['start', 'limit', 'delta'][i])[0]);
    if (d === 0) refuse('delta is 0');
    const n = Math.max(0, Math.ceil((l - s) / d));
    ctx.budget.charge(n, `a Range of ${n} values`); // NaN and Infinity bounds too: the charge refuses them
    return [{ dims: [n], dataType: start!.dataType, values: Float64Array.from({ length: n }, (_, i) => roundTo(start!.dataType, s + i * d)), batch: null }];
  },
});

const INTEGER_TYPES: number[] = [DataType.INT64, DataType.INT32, DataType.INT8, DataType.UINT8];

export const cast = converter({
  opTypes: ['Cast'],
  opsets: [1, LATEST_OPSET],
  attributes: { to: int(0), saturate: int(1) },
  convert(ctx) {
    // A computed tensor is float32 already; a Cast to float changes nothing.
    const x = ctx.data(0);
    const to = ctx.attrs.to;
    if (to !== DataType.FLOAT) refuse(`a Cast of computed data to ${dataTypeName(to)} is not supported; hnet computes in float32 (casts of shapes and constants fold)`);
    ctx.alias(ctx.out, x);
  },
  fold(ctx, [x]) {
    const to = ctx.attrs.to;
    if (![...INTEGER_TYPES, DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BOOL].includes(to)) {
      refuse(`a Cast to ${dataTypeName(to)} is not supported`);
    }
    // Integers and floats both keep a + b·N exact (b is an integer count).
    return [{ ...elementwise(ctx.budget, [x!], to, ([v]) => v), dataType: to }];
  },
});
