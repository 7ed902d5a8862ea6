// Quantization-aware training (QAT) for int8 and int4 storage: the forward
// sees a parameter as the file will store it — valuesFromFloat32's symmetric
// scale max|w| / qmax over the whole tensor (recomputed every step from the
// current values), q = round(w / scale) clipped to ±qmax, value = scale · q —
// and the gradient passes through the rounding unchanged (the straight-through
// estimator), so the trained float values keep moving while the loss is that
// of their quantized form. Without it, rounding happens only when the model
// is written, and the file scores below what the trainer measured.
//
// fakeQuantize is the reference (it is the file's own rounding); the ort
// engine emits the same arithmetic as ONNX nodes (ort/quantize.ts), the tfjs
// engine calls this one.

import { QMAX, valuesFromFloat32, valuesToFloat32, type DType } from '@hnet/format';

export type QuantizedDType = keyof typeof QMAX;

/** The storage dtypes that QAT rounds to: int8 and int4 (float16's rounding is too small to train against). */
export function quantizedDType(dtype: DType): QuantizedDType | null {
  return dtype === 'int8' || dtype === 'int4' ? dtype : null;
}

/** The values as `dtype` storage decodes them: what the written file holds. */
export function fakeQuantize(values: Float32Array, dtype: QuantizedDType): Float32Array {
  return valuesToFloat32(valuesFromFloat32(values, dtype));
}
