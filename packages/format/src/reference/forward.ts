// The reference forward pass: plain loops, float64 accumulation, virtual
// weights recomputed from the hash on every run. It is the semantic oracle
// that the WASM runtime, the trainer and the ONNX import are tested against,
// so it is written to be obviously right, not fast.

import { formatShape } from '../describe.js';
import { HnetFormatError } from '../errors.js';
import type { AveragePoolOp, BatchNormOp, Conv2DOp, ConvTransposeOp, DenseOp, LayerNormOp, MaxPoolOp, Model, Op, ResizeOp, SliceOp } from '../model.js';
import { sizeOf } from '../model.js';
import { MAX_DIMENSION } from '../limits.js';
import { validateModel } from '../validate.js';
import { BATCH, inferOpShape, nodeLabel, normalizeAxes, normalizeAxis, sliceRange } from '../shapes.js';
import { erf } from './erf.js';
import { resizeLinear, resizeNearest, resizeSource } from './resize.js';
import type { Tensor } from '../tensor.js';
import { expandWeight } from '../weights.js';

/** Runs a model on named inputs; returns every graph output by name. */
export function runReference(model: Model, inputs: Record<string, Tensor>): Record<string, Tensor> {
  // The caps (limits.ts) before any allocation: a model built in memory has not been through decode.
  validateModel(model);
  const values = new Map<string, Tensor>();
  let batch: number | null = null; // every input's -1 takes the same size, as in the WASM runtime
  for (const [i, declared] of model.inputs.entries()) {
    const given = inputs[declared.name];
    const field = `inputs[${i}] (${declared.name})`;
    if (!given) throw new HnetFormatError('shape', field, 'no value given for this input');
    const fits = given.shape.length === declared.shape.length && declared.shape.every((d, k) => d === BATCH || d === given.shape[k]);
    if (!fits) throw new HnetFormatError('shape', field, `expected ${formatShape(declared.shape)}, got ${formatShape(given.shape)}`);
    const axis = declared.shape.indexOf(BATCH);
    if (axis >= 0) {
      const n = given.shape[axis];
      if (!(Number.isInteger(n) && n >= 1 && n <= MAX_DIMENSION)) throw new HnetFormatError('shape', field, `batch size ${n} must be an integer in 1..2^31-1`);
      if (batch !== null && n !== batch) throw new HnetFormatError('shape', field, `batch size ${n} differs from the other inputs' ${batch}`);
      batch = n;
    }
    if (given.data.length !== sizeOf(given.shape)) throw new HnetFormatError('shape', field, `shape [${given.shape}] needs ${sizeOf(given.shape)} values, got ${given.data.length}`);
    values.set(declared.name, given);
  }
  model.nodes.forEach((node, i) => {
    const args = node.inputs.map((name) => values.get(name)!);
    const where = nodeLabel(node, i);
    const shape = inferOpShape(where, node.op, args.map((t) => t.shape), batch ?? 1);
    const out: Tensor = { shape, data: new Float32Array(sizeOf(shape)) };
    runOp(node.op, args, out, where);
    values.set(node.outputs[0], out);
  });
  return Object.fromEntries(model.outputs.map((t) => [t.name, values.get(t.name)!]));
}

function runOp(op: Op, args: Tensor[], out: Tensor, where: string): void {
  const [x] = args;
  switch (op.type) {
    case 'Dense':
      return dense(op, x, out);
    case 'Conv2D':
      return conv2d(op, x, out);
    case 'ConvTranspose':
      return convTranspose(op, x, out);
    case 'MaxPool':
      return maxPool(op, x, out);
    case 'AveragePool':
      return averagePool(op, x, out);
    case 'GlobalAveragePool':
      return globalPool(x, out, 'mean');
    case 'GlobalMaxPool':
      return globalPool(x, out, 'max');
    case 'BatchNorm':
      return batchNorm(op, x, out);
    case 'LayerNorm':
      return layerNorm(op, x, out, normalizeAxis(op.axis, x.shape.length, where));
    case 'Relu':
      return map(x, out, (v) => Math.max(v, 0));
    case 'LeakyRelu':
      return map(x, out, (v) => (v >= 0 ? v : op.alpha * v));
    case 'Sigmoid':
      return map(x, out, (v) => 1 / (1 + Math.exp(-v)));
    case 'Tanh':
      return map(x, out, Math.tanh);
    case 'Clip': {
      const min = op.min ?? -Infinity;
      const max = op.max ?? Infinity;
      return map(x, out, (v) => Math.min(Math.max(v, min), max)); // as the schema says, so min > max gives max; NaN stays NaN
    }
    case 'HardSigmoid':
      return map(x, out, (v) => Math.max(0, Math.min(1, op.alpha * v + op.beta)));
    case 'HardSwish':
      return map(x, out, (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)));
    case 'Pow':
      return map(x, out, (v) => Math.pow(v, op.exponent));
    case 'Sqrt':
      return map(x, out, Math.sqrt);
    case 'Exp':
      return map(x, out, Math.exp);
    case 'Erf':
      return map(x, out, erf);
    case 'Neg':
      return map(x, out, (v) => -v);
    case 'Gelu':
      return map(x, out, op.tanhApproximation ? geluTanh : gelu);
    case 'Softmax':
    case 'LogSoftmax':
      return softmax(x, out, normalizeAxis(op.axis, x.shape.length, where), op.type === 'LogSoftmax');
    case 'Flatten':
    case 'Reshape':
    case 'Squeeze':
    case 'Unsqueeze':
      out.data.set(x.data);
      return;
    case 'Add':
      return broadcast(x, args[1], out, (a, b) => a + b);
    case 'Mul':
      return broadcast(x, args[1], out, (a, b) => a * b);
    case 'Sub':
      return broadcast(x, args[1], out, (a, b) => a - b);
    case 'Div':
      return broadcast(x, args[1], out, (a, b) => a / b);
    case 'Expand':
      return broadcast(x, x, out, (a) => a);
    case 'MatMul':
      return matMul(x, args[1], out);
    case 'Constant':
      out.data.set(expandWeight(op.value));
      return;
    case 'Concat':
      return concat(args, out, normalizeAxis(op.axis, out.shape.length, where));
    case 'Slice':
      return slice(op, x, out, normalizeAxes(op.axes, x.shape.length, where));
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax': {
      const axes = op.axes === null ? x.shape.map((_, i) => i) : normalizeAxes(op.axes, x.shape.length, where);
      return reduce(op.type, x, out, axes);
    }
    case 'Transpose':
      return transpose(op.perm, x, out);
    case 'Pad':
      return pad(op.pads, op.value, x, out);
    case 'Resize':
      return resize(op, x, out);
    default: {
      const unknown: never = op; // every op type has a case above
      throw new HnetFormatError('invalid-field', where, `no reference for op ${String((unknown as Op).type)}`);
    }
  }
}

function map(x: Tensor, out: Tensor, f: (v: number) => number): void {
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]);
}

// y[n, o] = Σ_i x[n, i] · W[o, i] + b[o]
function dense(op: DenseOp, x: Tensor, out: Tensor): void {
  const [outFeatures, inFeatures] = op.weight.shape;
  const w = expandWeight(op.weight); // [out, in]
  const b = op.bias ? expandWeight(op.bias) : null;
  const batch = x.shape[0];
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outFeatures; o++) {
      let sum = b ? b[o] : 0;
      for (let i = 0; i < inFeatures; i++) sum += x.data[n * inFeatures + i] * w[o * inFeatures + i];
      out.data[n * outFeatures + o] = sum;
    }
  }
}

// y[n, m, oy, ox] = b[m] + Σ_{c, ky, kx} x[n, g·C/G + c, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw] · W[m, c, ky, kx]
function conv2d(op: Conv2DOp, x: Tensor, out: Tensor): void {
  const [batch, channels, height, width] = x.shape;
  const [m, cPerGroup, kh, kw] = op.weight.shape;
  const [, , oh, ow] = out.shape;
  const w = expandWeight(op.weight);
  const b = op.bias ? expandWeight(op.bias) : null;
  const mPerGroup = m / op.group;
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < m; oc++) {
      const firstChannel = Math.floor(oc / mPerGroup) * cPerGroup;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let sum = b ? b[oc] : 0;
          for (let c = 0; c < cPerGroup; c++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * op.strides[0] - op.pads[0] + ky * op.dilations[0];
              if (iy < 0 || iy >= height) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * op.strides[1] - op.pads[1] + kx * op.dilations[1];
                if (ix < 0 || ix >= width) continue;
                const xv = x.data[((n * channels + firstChannel + c) * height + iy) * width + ix];
                sum += xv * w[((oc * cPerGroup + c) * kh + ky) * kw + kx];
              }
            }
          }
          out.data[((n * m + oc) * oh + oy) * ow + ox] = sum;
        }
      }
    }
  }
}

/** Calls visit(outIndex, inputOffsets[]) for every output of a 2-D window op, plus the padded window size. */
function forEachWindow(
  x: Tensor,
  out: Tensor,
  op: { kernel: [number, number]; strides: [number, number]; pads: [number, number, number, number] },
  dilations: [number, number],
  visit: (outIndex: number, inside: number[], paddedCount: number) => void,
): void {
  const [batch, channels, height, width] = x.shape;
  const [, , oh, ow] = out.shape;
  const [kh, kw] = op.kernel;
  for (let plane = 0; plane < batch * channels; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const inside: number[] = [];
        let paddedCount = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * op.strides[0] - op.pads[0] + ky * dilations[0];
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * op.strides[1] - op.pads[1] + kx * dilations[1];
            // Positions in the declared padding count for count_include_pad; past it (ceil mode) they never do.
            if (iy < height + op.pads[2] && ix < width + op.pads[3]) paddedCount++;
            if (iy >= 0 && iy < height && ix >= 0 && ix < width) inside.push((plane * height + iy) * width + ix);
          }
        }
        visit((plane * oh + oy) * ow + ox, inside, paddedCount);
      }
    }
  }
}

function maxPool(op: MaxPoolOp, x: Tensor, out: Tensor): void {
  forEachWindow(x, out, op, op.dilations, (o, inside) => {
    let best = -Infinity;
    for (const i of inside) best = Math.max(best, x.data[i]);
    out.data[o] = best;
  });
}

function averagePool(op: AveragePoolOp, x: Tensor, out: Tensor): void {
  forEachWindow(x, out, op, [1, 1], (o, inside, paddedCount) => {
    let sum = 0;
    for (const i of inside) sum += x.data[i];
    out.data[o] = sum / (op.countIncludePad ? paddedCount : inside.length);
  });
}

function globalPool(x: Tensor, out: Tensor, kind: 'mean' | 'max'): void {
  const planeSize = x.shape[2] * x.shape[3];
  for (let plane = 0; plane < out.data.length; plane++) {
    let sum = 0;
    let max = -Infinity;
    for (let i = 0; i < planeSize; i++) {
      const v = x.data[plane * planeSize + i];
      sum += v;
      max = Math.max(max, v);
    }
    out.data[plane] = kind === 'mean' ? sum / planeSize : max;
  }
}

// y = scale · (x − mean) / √(variance + ε) + bias, per channel (axis 1)
function batchNorm(op: BatchNormOp, x: Tensor, out: Tensor): void {
  const channels = x.shape[1];
  const inner = sizeOf(x.shape.slice(2));
  for (let i = 0; i < x.data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out.data[i] = (op.scale[c] * (x.data[i] - op.mean[c])) / Math.sqrt(op.variance[c] + op.epsilon) + op.bias[c];
  }
}

function softmax(x: Tensor, out: Tensor, axis: number, log: boolean): void {
  const size = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number): number => (o * size + k) * inner + i;
      let max = -Infinity;
      for (let k = 0; k < size; k++) max = Math.max(max, x.data[at(k)]);
      let sum = 0;
      for (let k = 0; k < size; k++) sum += Math.exp(x.data[at(k)] - max);
      for (let k = 0; k < size; k++) {
        const shifted = x.data[at(k)] - max;
        out.data[at(k)] = log ? shifted - Math.log(sum) : Math.exp(shifted) / sum;
      }
    }
  }
}

/** Strides of `shape` aligned to the last `rank` dimensions of an output; a broadcast (size-1 or missing) dimension does not move. */
function broadcastStrides(shape: readonly number[], rank: number): number[] {
  const padded = [...Array<number>(rank - shape.length).fill(1), ...shape];
  const strides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d];
  }
  return strides;
}

/** The offsets into a and b of every index of `shape` under numpy broadcasting. */
function forEachBroadcast(shape: readonly number[], a: readonly number[], b: readonly number[], visit: (i: number, ia: number, ib: number) => void): void {
  const rank = shape.length;
  const sa = broadcastStrides(a, rank);
  const sb = broadcastStrides(b, rank);
  const count = sizeOf(shape);
  for (let i = 0; i < count; i++) {
    let rest = i;
    let ia = 0;
    let ib = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const coord = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      ia += coord * sa[d];
      ib += coord * sb[d];
    }
    visit(i, ia, ib);
  }
}

// Numpy broadcasting: each output index maps back to an index of a and of b.
function broadcast(a: Tensor, b: Tensor, out: Tensor, f: (a: number, b: number) => number): void {
  forEachBroadcast(out.shape, a.shape, b.shape, (i, ia, ib) => {
    out.data[i] = f(a.data[ia], b.data[ib]);
  });
}

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** The coordinates of a flat row-major index. */
function coordsOf(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return coords;
}

// y = x · Φ(x), Φ(x) = (1 + erf(x / √2)) / 2
const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
// y = x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))
const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

// y[..., m, n] = Σ_k a[..., m, k] · b[..., k, n], the leading dimensions broadcast
function matMul(a: Tensor, b: Tensor, out: Tensor): void {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const batchShape = out.shape.slice(0, -2);
  forEachBroadcast(batchShape, a.shape.slice(0, -2), b.shape.slice(0, -2), (i, ia, ib) => {
    const aBase = ia * m * k;
    const bBase = ib * k * n;
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < n; c++) {
        let sum = 0;
        for (let j = 0; j < k; j++) sum += a.data[aBase + r * k + j] * b.data[bBase + j * n + c];
        out.data[(i * m + r) * n + c] = sum;
      }
    }
  });
}

// y = (x − mean) / √(var + ε) · scale + bias, mean and (population) variance over axes axis..rank−1
function layerNorm(op: LayerNormOp, x: Tensor, out: Tensor, axis: number): void {
  const inner = sizeOf(x.shape.slice(axis));
  const outer = x.data.length / inner;
  const scale = expandWeight(op.scale);
  const bias = op.bias ? expandWeight(op.bias) : null;
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    let sum = 0;
    for (let i = 0; i < inner; i++) sum += x.data[base + i];
    const mean = sum / inner;
    let squares = 0;
    for (let i = 0; i < inner; i++) squares += (x.data[base + i] - mean) ** 2;
    const deviation = Math.sqrt(squares / inner + op.epsilon);
    for (let i = 0; i < inner; i++) {
      out.data[base + i] = ((x.data[base + i] - mean) / deviation) * scale[i] + (bias ? bias[i] : 0);
    }
  }
}

// Each input's block of the axis follows the previous one's, for every index of the axes before it.
function concat(args: Tensor[], out: Tensor, axis: number): void {
  const outer = sizeOf(out.shape.slice(0, axis));
  const inner = sizeOf(out.shape.slice(axis + 1));
  const outBlock = out.shape[axis] * inner;
  let offset = 0;
  for (const t of args) {
    const block = t.shape[axis] * inner;
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * block, (o + 1) * block), o * outBlock + offset);
    offset += block;
  }
}

// out[..., k, ...] = x[..., first + k · step, ...] along every sliced axis
function slice(op: SliceOp, x: Tensor, out: Tensor, axes: number[]): void {
  const first = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  axes.forEach((axis, i) => {
    const range = sliceRange(x.shape[axis], op.starts[i], op.ends[i], op.steps[i]);
    first[axis] = range.first;
    step[axis] = range.step;
  });
  const strides = stridesOf(x.shape);
  for (let i = 0; i < out.data.length; i++) {
    const coords = coordsOf(i, out.shape);
    let at = 0;
    coords.forEach((c, d) => (at += (first[d] + c * step[d]) * strides[d]));
    out.data[i] = x.data[at];
  }
}

function reduce(type: 'ReduceMean' | 'ReduceSum' | 'ReduceMax', x: Tensor, out: Tensor, axes: number[]): void {
  // Each input element lands in the output element with its reduced coordinates set to 0 (keepdims or not: same order).
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const keptStrides = stridesOf(keptShape);
  const acc = new Float64Array(out.data.length).fill(type === 'ReduceMax' ? -Infinity : 0);
  for (let i = 0; i < x.data.length; i++) {
    const coords = coordsOf(i, x.shape);
    let o = 0;
    coords.forEach((c, d) => (o += (axes.includes(d) ? 0 : c) * keptStrides[d]));
    const v = x.data[i];
    acc[o] = type === 'ReduceMax' ? (Number.isNaN(v) || v > acc[o] ? v : acc[o]) : acc[o] + v;
  }
  const count = x.data.length / out.data.length;
  for (let o = 0; o < out.data.length; o++) out.data[o] = type === 'ReduceMean' ? acc[o] / count : acc[o];
}

// out[i0, ..., ir] = x at the coordinates with x-axis perm[d] = i_d
function transpose(perm: number[], x: Tensor, out: Tensor): void {
  const strides = stridesOf(x.shape);
  for (let i = 0; i < out.data.length; i++) {
    const coords = coordsOf(i, out.shape);
    let at = 0;
    coords.forEach((c, d) => (at += c * strides[perm[d]]));
    out.data[i] = x.data[at];
  }
}

// out = x shifted by the begin pads; positions outside x take `value`
function pad(pads: number[], value: number, x: Tensor, out: Tensor): void {
  const strides = stridesOf(x.shape);
  for (let i = 0; i < out.data.length; i++) {
    const coords = coordsOf(i, out.shape);
    let at = 0;
    let inside = true;
    coords.forEach((c, d) => {
      const xc = c - pads[d];
      if (xc < 0 || xc >= x.shape[d]) inside = false;
      at += xc * strides[d];
    });
    out.data[i] = inside ? x.data[at] : value;
  }
}

function resize(op: ResizeOp, x: Tensor, out: Tensor): void {
  const [batch, channels, height, width] = x.shape;
  const [, , oh, ow] = out.shape;
  // The scales as float32, as the file stores them and onnxruntime uses them.
  const [sh, sw] = op.scales.map(Math.fround);
  const ys = Array.from({ length: oh }, (_, oy) => resizeSource(op.coordinates, oy, sh, height, oh));
  const xs = Array.from({ length: ow }, (_, ox) => resizeSource(op.coordinates, ox, sw, width, ow));
  for (let plane = 0; plane < batch * channels; plane++) {
    const at = (iy: number, ix: number): number => x.data[(plane * height + iy) * width + ix];
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let v: number;
        if (op.mode === 'nearest') {
          v = at(resizeNearest(op.nearest, ys[oy], height), resizeNearest(op.nearest, xs[ox], width));
        } else {
          const ty = resizeLinear(ys[oy], height);
          const tx = resizeLinear(xs[ox], width);
          const top = at(ty.low, tx.low) * (1 - tx.t) + at(ty.low, tx.high) * tx.t;
          const bottom = at(ty.high, tx.low) * (1 - tx.t) + at(ty.high, tx.high) * tx.t;
          v = top * (1 - ty.t) + bottom * ty.t;
        }
        out.data[(plane * oh + oy) * ow + ox] = v;
      }
    }
  }
}

// The transpose of Conv2D: every input position scatters its kernel into the output,
// y[n, g·M/G + m, iy·sh − pt + ky·dh, ix·sw − pl + kx·dw] += x[n, g·C/G + c, iy, ix] · W[g·C/G + c, m, ky, kx] (+ b)
function convTranspose(op: ConvTransposeOp, x: Tensor, out: Tensor): void {
  const [batch, channels, height, width] = x.shape;
  const [, mPerGroup, kh, kw] = op.weight.shape;
  const [, m, oh, ow] = out.shape;
  const w = expandWeight(op.weight);
  const b = op.bias ? expandWeight(op.bias) : null;
  const cPerGroup = channels / op.group;
  const acc = new Float64Array(out.data.length);
  for (let n = 0; n < batch; n++) {
    for (let ic = 0; ic < channels; ic++) {
      const firstOut = Math.floor(ic / cPerGroup) * mPerGroup;
      for (let iy = 0; iy < height; iy++) {
        for (let ix = 0; ix < width; ix++) {
          const xv = x.data[((n * channels + ic) * height + iy) * width + ix];
          for (let mo = 0; mo < mPerGroup; mo++) {
            const oc = firstOut + mo;
            for (let ky = 0; ky < kh; ky++) {
              const oy = iy * op.strides[0] - op.pads[0] + ky * op.dilations[0];
              if (oy < 0 || oy >= oh) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ox = ix * op.strides[1] - op.pads[1] + kx * op.dilations[1];
                if (ox < 0 || ox >= ow) continue;
                acc[((n * m + oc) * oh + oy) * ow + ox] += xv * w[((ic * mPerGroup + mo) * kh + ky) * kw + kx];
              }
            }
          }
        }
      }
    }
  }
  const plane = oh * ow;
  for (let i = 0; i < acc.length; i++) out.data[i] = acc[i] + (b ? b[Math.floor(i / plane) % m] : 0);
}
