// Stored values: float32, float16 (IEEE binary16), or int8 / int4 with a per-weight scale.

import type { DType, StoredValues } from './model.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Nearest binary16 bit pattern of a number (round half to even; overflow to ±Inf). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    if (e < -10) return sign; // too small: ±0
    mant |= 0x800000; // subnormal: shift the implicit bit in
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let bits = mant >>> shift;
    if (rest > half || (rest === half && (bits & 1))) bits++;
    return sign | bits;
  }
  let bits = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1))) bits++; // may carry into exp: correct
  return sign | bits;
}

/** The number a binary16 bit pattern stands for. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Number of stored values. */
export function valueCount(values: StoredValues): number {
  return values.data.length;
}

/** Bytes per stored value of a dtype (int4: half a byte; see storedBytes). */
export function dtypeSize(dtype: DType): number {
  return dtype === 'float32' ? 4 : dtype === 'float16' ? 2 : dtype === 'int8' ? 1 : 0.5;
}

/** Bytes that `count` values of a dtype take in a file (int4 packs two per byte, rounding up). */
export function storedBytes(dtype: DType, count: number): number {
  return Math.ceil(count * dtypeSize(dtype));
}

/** The largest |q| of each integer dtype: symmetric ranges, so that -q is always representable. */
export const QMAX = { int8: 127, int4: 7 } as const;

/** int4 q values (each in [-7, 7]) two per byte, element 2i in the low nibble of byte i (docs/FORMAT.md). */
export function packInt4(q: Int8Array): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(q.length / 2));
  for (let i = 0; i < q.length; i++) bytes[i >> 1] |= (q[i] & 0xf) << ((i & 1) * 4);
  return bytes;
}

/** The `count` int4 q values of packed bytes (the twin of packInt4), sign-extended. */
export function unpackInt4(bytes: Uint8Array, count: number): Int8Array {
  const q = new Int8Array(count);
  for (let i = 0; i < count; i++) q[i] = (((bytes[i >> 1] >> ((i & 1) * 4)) & 0xf) << 28) >> 28;
  return q;
}

/** Decoded float32 values. Returns the stored array itself for float32. */
export function valuesToFloat32(values: StoredValues): Float32Array {
  switch (values.dtype) {
    case 'float32':
      return values.data;
    case 'float16':
      return Float32Array.from(values.data, float16Value);
    case 'int8':
    case 'int4': {
      const out = new Float32Array(values.data.length);
      for (let i = 0; i < out.length; i++) out[i] = Math.fround(values.scale * values.data[i]);
      return out;
    }
  }
}

/**
 * Encodes float32 values in a storage dtype. int8 and int4 use a symmetric
 * scale, max|v| / 127 (or / 7), so that the largest value is exact.
 */
export function valuesFromFloat32(data: Float32Array, dtype: DType = 'float32'): StoredValues {
  switch (dtype) {
    case 'float32':
      return { dtype, data: Float32Array.from(data) };
    case 'float16':
      return { dtype, data: Uint16Array.from(data, float16Bits) };
    case 'int8':
    case 'int4': {
      const qmax = QMAX[dtype];
      let max = 0;
      for (const v of data) max = Math.max(max, Math.abs(v));
      const scale = max > 0 ? Math.fround(max / qmax) : 1;
      const q = new Int8Array(data.length);
      for (let i = 0; i < data.length; i++) q[i] = Math.max(-qmax, Math.min(qmax, Math.round(data[i] / scale)));
      return { dtype, data: q, scale };
    }
  }
}
