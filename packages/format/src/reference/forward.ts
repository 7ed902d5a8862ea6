// The reference forward pass: plain loops, float64 accumulation, virtual
// weights recomputed from the hash on every run. It is the semantic oracle
// that the WASM runtime, the trainer and the ONNX import are tested against,
// so it is written to be obviously right, not fast.

import { formatShape } from '../describe.js';
import { HnetFormatError } from '../errors.js';
import type { AveragePoolOp, BatchNormOp, Conv2DOp, DenseOp, MaxPoolOp, Model, Op } from '../model.js';
import { sizeOf } from '../model.js';
import { MAX_DIMENSION } from '../limits.js';
import { validateModel } from '../validate.js';
import { BATCH, inferOpShape, nodeLabel, normalizeAxis } from '../shapes.js';
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
    const shape = inferOpShape(where, node.op, args.map((t) => t.shape));
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
    case 'MaxPool':
      return maxPool(op, x, out);
    case 'AveragePool':
      return averagePool(op, x, out);
    case 'GlobalAveragePool':
      return globalAveragePool(x, out);
    case 'BatchNorm':
      return batchNorm(op, x, out);
    case 'Relu':
      return map(x, out, (v) => Math.max(v, 0));
    case 'LeakyRelu':
      return map(x, out, (v) => (v >= 0 ? v : op.alpha * v));
    case 'Sigmoid':
      return map(x, out, (v) => 1 / (1 + Math.exp(-v)));
    case 'Tanh':
      return map(x, out, Math.tanh);
    case 'Softmax':
    case 'LogSoftmax':
      return softmax(x, out, normalizeAxis(op.axis, x.shape.length, where), op.type === 'LogSoftmax');
    case 'Flatten':
    case 'Reshape':
      out.data.set(x.data);
      return;
    case 'Add':
      return add(x, args[1], out);
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

function globalAveragePool(x: Tensor, out: Tensor): void {
  const planeSize = x.shape[2] * x.shape[3];
  for (let plane = 0; plane < out.data.length; plane++) {
    let sum = 0;
    for (let i = 0; i < planeSize; i++) sum += x.data[plane * planeSize + i];
    out.data[plane] = sum / planeSize;
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

// Numpy broadcasting: each output index maps back to an index of a and of b.
function add(a: Tensor, b: Tensor, out: Tensor): void {
  const rank = out.shape.length;
  const stridesFor = (shape: number[]): number[] => {
    const padded = [...Array(rank - shape.length).fill(1), ...shape];
    const strides = new Array<number>(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) {
      strides[d] = padded[d] === 1 ? 0 : s; // a broadcast dimension does not move
      s *= padded[d];
    }
    return strides;
  };
  const sa = stridesFor(a.shape);
  const sb = stridesFor(b.shape);
  for (let i = 0; i < out.data.length; i++) {
    let rest = i;
    let ia = 0;
    let ib = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const coord = rest % out.shape[d];
      rest = Math.floor(rest / out.shape[d]);
      ia += coord * sa[d];
      ib += coord * sb[d];
    }
    out.data[i] = a.data[ia] + b.data[ib];
  }
}
