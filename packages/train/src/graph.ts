// A @hnet/format Model as a TensorFlow.js computation: trainable variables
// for the stored values of every weight (weightsOf: the K buckets of a hashed
// weight, all values of a plain one), and a forward pass for every op of the
// format, in the format's NCHW layout. tfjs differentiates it; every op is
// built from ops whose gradients exist on every backend (no Gather, no
// Conv2D backprop). Verified against runReference.

import * as tf from '@tensorflow/tfjs';
import {
  broadcastShapes,
  inferOpShape,
  normalizeAxis,
  sizeOf,
  windowOutput,
  type ConvTransposeOp,
  type Model,
  type Node,
  type Pads4,
  type Pair,
  type Weight,
} from '@hnet/format';
import { TrainError } from './errors.js';
import { fromTfLayout, hashedVirtual, hashLayout, tfShapeOf, toTfLayout, type HashLayout } from './hashed.js';
import { averageDivisor } from './pooling.js';
import { fakeQuantize, type QuantizedDType } from './quantize.js';
import { logitsName, trainableParams, withValues, type Init } from './params.js';
import { resizeAxis, sliceRanges } from './sampling.js';
import type { Rng } from './rng.js';

export type { Init };

/** One trainable array: a weight's buckets (hashed) or its plain values (tf layout). */
export interface Param {
  /** "nodes[3].op.weight" — where it lives in the model */
  field: string;
  nodeIndex: number;
  role: 'weight' | 'bias';
  /** A layer's weight (L2-decayed); see TrainableParam. */
  layer: boolean;
  weight: Weight;
  hashed: HashLayout | null;
  /** int8/int4: the forward sees the variable fake-quantized to its storage (quantize.ts). */
  quantized: QuantizedDType | null;
  variable: tf.Variable;
}


export interface GraphOptions {
  /** Whether the variables are trainable (false for a teacher). */
  trainable?: boolean;
  /** 'project': the model's stored values; 'scratch': seeded Glorot-uniform weights, zero biases. */
  init?: Init;
  seed?: number;
  /** Fake-quantize int8/int4 parameters in the forward (quantization-aware training). */
  quantizationAware?: boolean;
}

export interface ForwardOptions {
  /** Stop before a final Softmax/LogSoftmax and return its input (the logits). */
  logits?: boolean;
  /** Dropout rate on hidden activations (outputs of Relu/LeakyRelu/Sigmoid/Tanh), training only. */
  dropout?: number;
  /** Draws the dropout seeds; required when dropout > 0. */
  rng?: Rng;
}

let nextVariableId = 0; // tf variable names must be unique per process
const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh']);

export class TrainableGraph {
  readonly params: Param[] = [];
  /** The tensor the logits are read from (the input of a final Softmax/LogSoftmax). */
  readonly logitsName: string;
  private readonly paramsByNode = new Map<number, { weight: Param; bias: Param | null }>();

  constructor(
    readonly model: Model,
    options: GraphOptions = {},
  ) {
    const { trainable = true, init = 'project', seed = 0, quantizationAware = false } = options;
    for (const t of trainableParams(model, init, seed, quantizationAware)) {
      const hashed = t.weight.hash ? hashLayout(t.weight.shape, t.weight.hash, t.values.length) : null;
      const data = hashed ? t.values : toTfLayout(t.values, t.weight.shape);
      const shape = hashed ? [t.values.length] : tfShapeOf(t.weight.shape);
      const param: Param = {
        field: t.field, nodeIndex: t.nodeIndex, role: t.role, layer: t.layer, weight: t.weight, hashed, quantized: t.quantized,
        variable: tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), trainable, `${t.field}#${nextVariableId++}`)),
      };
      this.params.push(param);
      const entry = this.paramsByNode.get(t.nodeIndex);
      if (t.role === 'weight') this.paramsByNode.set(t.nodeIndex, { weight: param, bias: null });
      else entry!.bias = param;
    }
    this.logitsName = logitsName(model);
  }

  get variables(): tf.Variable[] {
    return this.params.map((p) => p.variable);
  }

  /** Stored and virtual parameter counts over all trainable weights. */
  parameterCounts(): { stored: number; virtual: number } {
    let stored = 0;
    let virtual = 0;
    for (const p of this.params) {
      stored += p.variable.size;
      virtual += sizeOf(p.weight.shape);
    }
    return { stored, virtual };
  }

  /** Runs the graph on a batch shaped like the model input ([N, ...]); returns the output (or logits). */
  forward(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    const { logits = false, dropout = 0, rng } = options;
    return tf.tidy(() => {
      const values = new Map<string, tf.Tensor>([[this.model.inputs[0].name, x]]);
      const outputName = this.model.outputs[0].name;
      for (let i = 0; i < this.model.nodes.length; i++) {
        const node = this.model.nodes[i];
        if (logits && this.logitsName !== outputName && node.outputs[0] === outputName) {
          return values.get(node.inputs[0])!;
        }
        const inputs = node.inputs.map((name) => {
          const t = values.get(name);
          if (!t) throw new TrainError('model', `nodes[${i}] (${node.name}): input tensor '${name}' is not produced before use`);
          return t;
        });
        let y = this.runNode(i, node, inputs, x.shape[0]);
        if (dropout > 0 && ACTIVATIONS.has(node.op.type) && node.outputs[0] !== outputName) {
          if (!rng) throw new TrainError('options', 'dropout needs an rng');
          y = tf.dropout(y, dropout, undefined, rng.nextUint32());
        }
        values.set(node.outputs[0], y);
      }
      const out = values.get(outputName);
      if (!out) throw new TrainError('model', `output '${outputName}' is not produced by any node`);
      return out;
    });
  }

  /** The virtual weight of a param in tf layout ([in, out] for Dense). */
  private virtual(p: Param): tf.Tensor {
    const stored = p.quantized ? fakeQuantized(p.variable, p.quantized) : p.variable;
    return p.hashed ? hashedVirtual(stored as tf.Tensor1D, p.hashed) : stored;
  }

  /** The virtual weight in the format's shape and row-major order (the tf layout transposed back). */
  private natural(p: Param): tf.Tensor {
    const v = this.virtual(p);
    return p.weight.shape.length <= 1 ? v : tf.reshape(tf.transpose(v), p.weight.shape);
  }

  private runNode(i: number, node: Node, inputs: tf.Tensor[], batch: number): tf.Tensor {
    const op = node.op;
    const where = `nodes[${i}] (${node.name || op.type})`;
    const x = inputs[0];
    const axisOf = (axis: number) => normalizeAxis(axis, x.rank, where);
    switch (op.type) {
      case 'Dense': {
        const { weight, bias } = this.paramsByNode.get(i)!;
        if (x.rank !== 2) throw new TrainError('model', `${where}: Dense needs a 2-D input, got shape [${x.shape}]`);
        const y = tf.matMul(x, this.virtual(weight)); // [N, in] · [in, out] → [N, out]
        return bias ? tf.add(y, this.virtual(bias)) : y;
      }
      case 'Conv2D': {
        const { weight, bias } = this.paramsByNode.get(i)!;
        return conv2d(x as tf.Tensor4D, { ...op, weightShape: op.weight.shape }, this.virtual(weight), bias ? this.virtual(bias) : null, where);
      }
      case 'ConvTranspose': {
        const { weight, bias } = this.paramsByNode.get(i)!;
        return convTranspose(x as tf.Tensor4D, op, this.natural(weight), bias ? this.virtual(bias) : null, where);
      }
      case 'Relu':
        return tf.relu(x);
      case 'LeakyRelu':
        return tf.leakyRelu(x, op.alpha);
      case 'Sigmoid':
        return tf.sigmoid(x);
      case 'Tanh':
        return tf.tanh(x);
      case 'Softmax':
      case 'LogSoftmax':
        return softmaxOnAxis(x, op.axis, op.type === 'LogSoftmax');
      case 'Flatten': {
        const axis = op.axis < 0 ? op.axis + x.rank : op.axis;
        const outer = sizeOf(x.shape.slice(0, axis));
        return tf.reshape(x, [outer, x.size / Math.max(outer, 1)]);
      }
      case 'Reshape':
        return tf.reshape(x, inferOpShape(where, op, [x.shape])); // the format's ONNX Reshape rules
      case 'MaxPool': {
        const w = windows(x as tf.Tensor4D, op.kernel, op.strides, op.pads, op.dilations, op.ceilMode, -3.4e38, where);
        return tf.max(w.patches, 2);
      }
      case 'AveragePool': {
        const w = windows(x as tf.Tensor4D, op.kernel, op.strides, op.pads, [1, 1], op.ceilMode, 0, where);
        const sum = tf.sum(w.patches, 2); // [N, C, OH, OW]
        return tf.div(sum, tf.tensor(averageDivisor(x.shape, op, w.outH, w.outW), [1, 1, w.outH, w.outW]));
      }
      case 'GlobalAveragePool':
        return tf.mean(x, [2, 3], true);
      case 'BatchNorm': {
        const c = op.scale.length;
        const bshape = x.shape.map((d, k) => (k === 1 ? c : 1));
        const mul = new Float32Array(c);
        const add = new Float32Array(c);
        for (let k = 0; k < c; k++) {
          mul[k] = op.scale[k] / Math.sqrt(op.variance[k] + op.epsilon);
          add[k] = op.bias[k] - op.mean[k] * mul[k];
        }
        return tf.add(tf.mul(x, tf.tensor(mul, bshape)), tf.tensor(add, bshape));
      }
      case 'Add':
        return tf.add(inputs[0], inputs[1]);
      case 'Mul':
        return tf.mul(inputs[0], inputs[1]);
      case 'Sub':
        return tf.sub(inputs[0], inputs[1]);
      case 'Div':
        return tf.div(inputs[0], inputs[1]);
      case 'Constant':
        return this.natural(this.paramsByNode.get(i)!.weight);
      case 'Concat':
        return tf.concat(inputs, axisOf(op.axis));
      case 'Slice': {
        let y = x;
        for (const r of sliceRanges(op, x.shape)) y = stridedAxis(y, r.axis, r.start, r.count, r.step);
        return y;
      }
      case 'Clip': {
        let y = x;
        if (op.min !== null) y = tf.maximum(y, op.min);
        if (op.max !== null) y = tf.minimum(y, op.max);
        return y;
      }
      case 'HardSigmoid':
        return tf.clipByValue(tf.add(tf.mul(x, op.alpha), op.beta), 0, 1);
      case 'HardSwish':
        return tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1));
      case 'Pow':
        return tf.pow(x, tf.scalar(op.exponent));
      case 'Sqrt':
        return tf.sqrt(x);
      case 'Exp':
        return tf.exp(x);
      case 'Erf':
        return tf.erf(x);
      case 'Neg':
        return tf.neg(x);
      case 'ReduceMean':
      case 'ReduceSum':
      case 'ReduceMax': {
        const axes = op.axes === null ? [...x.shape.keys()] : op.axes.map(axisOf);
        const reduce = op.type === 'ReduceMean' ? tf.mean : op.type === 'ReduceSum' ? tf.sum : tf.max;
        return reduce(x, axes, op.keepdims);
      }
      case 'Transpose':
        return tf.transpose(x, op.perm);
      case 'MatMul': {
        // Broadcast the batch dims first: tfjs's BatchMatMul gradient does not sum over them.
        const [a, b] = inputs;
        const lead = broadcastShapes(where, a.shape.slice(0, -2), b.shape.slice(0, -2));
        return tf.matMul(tf.broadcastTo(a, [...lead, ...a.shape.slice(-2)]), tf.broadcastTo(b, [...lead, ...b.shape.slice(-2)]));
      }
      case 'LayerNorm': {
        const { weight: scale, bias } = this.paramsByNode.get(i)!;
        const axes = [...x.shape.keys()].slice(normalizeAxis(op.axis, x.rank, where));
        const centred = tf.sub(x, tf.mean(x, axes, true));
        const variance = tf.mean(tf.square(centred), axes, true);
        const y = tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, op.epsilon))), this.natural(scale));
        return bias ? tf.add(y, this.natural(bias)) : y;
      }
      case 'Gelu': {
        if (!op.tanhApproximation) return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
        const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, tf.scalar(3)), 0.044715)), Math.sqrt(2 / Math.PI));
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
      }
      case 'Squeeze':
      case 'Unsqueeze':
        return tf.reshape(x, inferOpShape(where, op, [x.shape]));
      case 'Pad': {
        const r = x.rank;
        return tf.pad(x, x.shape.map((_, k) => [op.pads[k], op.pads[r + k]] as [number, number]), op.value);
      }
      case 'GlobalMaxPool':
        return tf.max(x, [2, 3], true);
      case 'Resize': {
        // Each spatial axis as a matrix [out, in]: y = A_h · x · A_wᵀ, as two 2-D products.
        const [n, c, h, w] = x.shape;
        const [rows, cols] = [resizeAxis(op, h, 0), resizeAxis(op, w, 1)];
        const [oh, ow] = [rows.size, cols.size];
        const awT = tf.transpose(tf.tensor2d(cols.matrix, [ow, w]));
        const ahT = tf.transpose(tf.tensor2d(rows.matrix, [oh, h]));
        const alongW = tf.reshape(tf.matMul(tf.reshape(x, [n * c * h, w]), awT), [n * c, h, ow]);
        const alongH = tf.matMul(tf.reshape(tf.transpose(alongW, [0, 2, 1]), [n * c * ow, h]), ahT); // [N·C·OW, OH]
        return tf.transpose(tf.reshape(alongH, [n, c, ow, oh]), [0, 1, 3, 2]);
      }
      case 'Expand':
        return tf.broadcastTo(x, inferOpShape(where, op, [x.shape], batch)); // -1: the batch
    }
  }

  /** The model with the current variable values written back, in each weight's storage dtype. */
  toModel(): Model {
    const values = this.params.map((p) => {
      const data = p.variable.dataSync() as Float32Array;
      return p.hashed ? Float32Array.from(data) : fromTfLayout(data, p.weight.shape);
    });
    return withValues(this.model, this.params, values);
  }

  /** Copies of the variable values (a checkpoint). */
  snapshot(): Float32Array[] {
    return this.params.map((p) => Float32Array.from(p.variable.dataSync() as Float32Array));
  }

  restore(snapshot: Float32Array[]): void {
    tf.tidy(() => this.params.forEach((p, k) => p.variable.assign(tf.tensor(snapshot[k], p.variable.shape))));
  }

  dispose(): void {
    for (const p of this.params) p.variable.dispose();
  }
}

function softmaxOnAxis(x: tf.Tensor, axis: number, log: boolean): tf.Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  const f = (t: tf.Tensor) => (log ? tf.logSoftmax(t) : tf.softmax(t));
  if (a === x.rank - 1) return f(x);
  const perm = [...Array(x.rank).keys()];
  perm[a] = x.rank - 1;
  perm[x.rank - 1] = a;
  return tf.transpose(f(tf.transpose(x, perm)), perm); // the swap is its own inverse
}

/**
 * All windows of an NCHW input: patches [N, C, KH·KW, OH, OW] (kh-major),
 * built from pad, slice and reshape only, so that it is differentiable on
 * every backend (the WASM backend has no Conv2DBackpropFilter kernel).
 */
function windows(
  x: tf.Tensor4D,
  kernel: Pair,
  strides: Pair,
  pads: Pads4,
  dilations: Pair,
  ceil: boolean,
  padValue: number,
  where: string,
): { patches: tf.Tensor; outH: number; outW: number } {
  if (x.rank !== 4) throw new TrainError('model', `${where}: needs a 4-D NCHW input, got shape [${x.shape}]`);
  const [n, c, h, w] = x.shape;
  const [kh, kw] = kernel;
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const [pt, pl, pb, pr] = pads;
  const outH = windowOutput(h, kh, sh, pt, pb, dh, ceil);
  const outW = windowOutput(w, kw, sw, pl, pr, dw, ceil);
  if (outH < 1 || outW < 1) throw new TrainError('model', `${where}: window larger than the padded input [${x.shape}]`);
  // Pad enough at the end that every strided slice of length out·s is in bounds.
  const extraB = Math.max(pb, (kh - 1) * dh + outH * sh - h - pt);
  const extraR = Math.max(pr, (kw - 1) * dw + outW * sw - w - pl);
  const xp = tf.pad(x, [[0, 0], [0, 0], [pt, extraB], [pl, extraR]], padValue);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      let t: tf.Tensor = tf.slice(xp, [0, 0, i * dh, j * dw], [n, c, outH * sh, outW * sw]);
      if (sh > 1) t = tf.slice(t.reshape([n, c, outH, sh, outW * sw]), [0, 0, 0, 0, 0], [n, c, outH, 1, outW * sw]).reshape([n, c, outH, outW * sw]);
      if (sw > 1) t = tf.slice(t.reshape([n, c, outH, outW, sw]), [0, 0, 0, 0, 0], [n, c, outH, outW, 1]).reshape([n, c, outH, outW]);
      taps.push(t);
    }
  }
  return { patches: tf.stack(taps, 2), outH, outW };
}

/** What a convolution needs of its op: the weight's shape [M, C/g, KH, KW] and the geometry. */
interface ConvGeometry {
  weightShape: readonly number[];
  strides: Pair;
  pads: Pads4;
  dilations: Pair;
  group: number;
}

/**
 * Conv2D as windows · Vt, all groups in one batched product:
 * x [N, C, H, W] → [N, M, OH, OW]. Depthwise is the case g = C.
 */
function conv2d(
  x: tf.Tensor4D,
  op: ConvGeometry,
  vt: tf.Tensor, // [C/g·KH·KW, M]
  bias: tf.Tensor | null,
  where: string,
): tf.Tensor {
  const [m, cg, kh, kw] = op.weightShape;
  const g = op.group;
  if (x.rank !== 4 || x.shape[1] !== cg * g) {
    throw new TrainError('model', `${where}: input [${x.shape}] does not fit weight [${op.weightShape}] with group ${g}`);
  }
  const { patches, outH, outW } = windows(x, [kh, kw], op.strides, op.pads, op.dilations, false, 0, where);
  const n = x.shape[0];
  const taps = cg * kh * kw;
  // patches [N, C, KH·KW, OH, OW] → [g, N·OH·OW, C/g·KH·KW]; Vt → [g, C/g·KH·KW, M/g]
  const cols = tf.reshape(tf.transpose(tf.reshape(patches, [n, g, taps, outH, outW]), [1, 0, 3, 4, 2]), [g, n * outH * outW, taps]);
  const wg = tf.transpose(tf.reshape(vt, [taps, g, m / g]), [1, 0, 2]);
  let y: tf.Tensor = tf.reshape(tf.transpose(tf.matMul(cols, wg), [1, 0, 2]), [n * outH * outW, m]); // channel gi·M/g + j
  if (bias) y = tf.add(y, bias);
  return tf.transpose(tf.reshape(y, [n, outH, outW, m]), [0, 3, 1, 2]);
}

/**
 * ConvTranspose as a Conv2D (stride 1) of x with zeros inserted between its
 * elements (stride − 1 of them), padded by (K − 1)·d − pad at the begin and
 * (K − 1)·d − pad + output_padding at the end (cropped where negative), by
 * the kernel flipped and with its channel axes swapped per group:
 * W [C, M/g, KH, KW] → W' [M, C/g, KH, KW], W'[gi·M/g + m, c] = W[gi·C/g + c, m] flipped.
 */
function convTranspose(x: tf.Tensor4D, op: ConvTransposeOp, w: tf.Tensor, bias: tf.Tensor | null, where: string): tf.Tensor {
  const [c, mg, kh, kw] = op.weight.shape;
  const g = op.group;
  if (x.rank !== 4 || x.shape[1] !== c) throw new TrainError('model', `${where}: input [${x.shape}] does not fit weight [${op.weight.shape}]`);
  const [n, , h, wd] = x.shape;
  const [sh, sw] = op.strides;
  const [dh, dw] = op.dilations;
  let spread: tf.Tensor = x;
  if (sh > 1 || sw > 1) {
    const cells = tf.pad(tf.reshape(x, [n, c, h, 1, wd, 1]), [[0, 0], [0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1]]);
    spread = tf.slice(tf.reshape(cells, [n, c, h * sh, wd * sw]), [0, 0, 0, 0], [n, c, (h - 1) * sh + 1, (wd - 1) * sw + 1]);
  }
  const [pt, pl, pb, pr] = op.pads;
  const begin = [(kh - 1) * dh - pt, (kw - 1) * dw - pl];
  const end = [(kh - 1) * dh - pb + op.outputPadding[0], (kw - 1) * dw - pr + op.outputPadding[1]];
  const padded = tf.pad(spread, [[0, 0], [0, 0], [Math.max(0, begin[0]), Math.max(0, end[0])], [Math.max(0, begin[1]), Math.max(0, end[1])]]);
  const size = [padded.shape[2]! - Math.max(0, -begin[0]) - Math.max(0, -end[0]), padded.shape[3]! - Math.max(0, -begin[1]) - Math.max(0, -end[1])];
  const input = tf.slice(padded, [0, 0, Math.max(0, -begin[0]), Math.max(0, -begin[1])], [n, c, size[0], size[1]]) as tf.Tensor4D;
  const cg = c / g;
  // W [g, C/g, M/g, KH, KW] flipped → [C/g, KH, KW, g, M/g] = Vt [C/g·KH·KW, M] of the equivalent convolution
  const flipped = tf.reverse(tf.reshape(w, [g, cg, mg, kh, kw]), [3, 4]);
  const vt = tf.reshape(tf.transpose(flipped, [1, 3, 4, 0, 2]), [cg * kh * kw, g * mg]);
  const geometry: ConvGeometry = { weightShape: [g * mg, cg, kh, kw], strides: [1, 1], pads: [0, 0, 0, 0], dilations: op.dilations, group: g };
  return conv2d(input, geometry, vt, bias, where);
}

/** Elements start, start + step, … (count of them) of one axis, from slice and reshape only (and reverse for a negative step). */
function stridedAxis(x: tf.Tensor, axis: number, start: number, count: number, step: number): tf.Tensor {
  if (step < 0) return stridedAxis(tf.reverse(x, axis), axis, x.shape[axis] - 1 - start, count, -step);
  const begin = x.shape.map((_, k) => (k === axis ? start : 0));
  const size = x.shape.map((d, k) => (k === axis ? (count === 0 ? 0 : (count - 1) * step + 1) : d));
  const run = tf.slice(x, begin, size);
  if (step === 1 || count <= 1) return run;
  // Pad the run to count·step, view it as [count, step] and keep the first of each.
  const padded = tf.pad(run, run.shape.map((_, k) => [0, k === axis ? step - 1 : 0] as [number, number]));
  const split = [...x.shape.slice(0, axis), count, step, ...x.shape.slice(axis + 1)];
  const first = tf.slice(tf.reshape(padded, split), split.map(() => 0), split.map((d, k) => (k === axis + 1 ? 1 : d)));
  return tf.reshape(first, size.map((d, k) => (k === axis ? count : d)));
}

/** The values rounded to their int8/int4 storage in the forward; the gradient passes straight through. */
export function fakeQuantized(values: tf.Tensor, dtype: QuantizedDType): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const w = args[0] as tf.Tensor;
    const value = tf.tensor(fakeQuantize(w.dataSync() as Float32Array, dtype), w.shape, 'float32');
    return { value, gradFunc: (dy: tf.Tensor) => dy };
  });
  return op(values);
}
