// A @hnet/format Model as a TensorFlow.js computation: trainable variables
// for the stored values of every Dense/Conv2D weight (the K buckets of a
// hashed weight, all values of a plain one), and a forward pass for every op
// of the format, in the format's NCHW layout. Verified against runReference.

import * as tf from '@tensorflow/tfjs';
import {
  inferOpShape,
  pending11, // PENDING-1.1
  sizeOf,
  windowOutput,
  type Model,
  type Node,
  type Op,
  type Pads4,
  type Pair,
  type Weight,
} from '@hnet/format';
import { TrainError } from './errors.js';
import { fromTfLayout, hashedVirtual, hashLayout, tfShapeOf, toTfLayout, type HashLayout } from './hashed.js';
import { averageDivisor } from './pooling.js';
import { fakeQuantize, type QuantizedDType } from './quantize.js';
import { logitsName, trainableParams, withValues, type Init } from './params.js';
import type { Rng } from './rng.js';

export type { Init };

/** One trainable array: a weight's buckets (hashed) or its plain values (tf layout). */
export interface Param {
  /** "nodes[3].op.weight" — where it lives in the model */
  field: string;
  nodeIndex: number;
  role: 'weight' | 'bias';
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
        field: t.field, nodeIndex: t.nodeIndex, role: t.role, weight: t.weight, hashed, quantized: t.quantized,
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

  /** Stored and virtual parameter counts over all Dense/Conv2D weights and biases. */
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
        let y = this.runNode(i, node, inputs);
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

  private runNode(i: number, node: Node, inputs: tf.Tensor[]): tf.Tensor {
    const op = node.op;
    const where = `nodes[${i}] (${node.name || op.type})`;
    const x = inputs[0];
    switch (op.type) {
      default:
        return pending11(where, op.type); // PENDING-1.1
      case 'Dense': {
        const { weight, bias } = this.paramsByNode.get(i)!;
        if (x.rank !== 2) throw new TrainError('model', `${where}: Dense needs a 2-D input, got shape [${x.shape}]`);
        const y = tf.matMul(x, this.virtual(weight)); // [N, in] · [in, out] → [N, out]
        return bias ? tf.add(y, this.virtual(bias)) : y;
      }
      case 'Conv2D': {
        const { weight, bias } = this.paramsByNode.get(i)!;
        return conv2d(x as tf.Tensor4D, op, this.virtual(weight) as tf.Tensor2D, bias ? this.virtual(bias) : null, where);
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

/** Conv2D as windows · Vt per group: x [N, C, H, W] → [N, M, OH, OW]. */
function conv2d(
  x: tf.Tensor4D,
  op: Extract<Op, { type: 'Conv2D' }>,
  vt: tf.Tensor2D, // [C/g·KH·KW, M]
  bias: tf.Tensor | null,
  where: string,
): tf.Tensor {
  const [m, cg, kh, kw] = op.weight.shape;
  const g = op.group;
  if (x.rank !== 4 || x.shape[1] !== cg * g) {
    throw new TrainError('model', `${where}: input [${x.shape}] does not fit weight [${op.weight.shape}] with group ${g}`);
  }
  const { patches, outH, outW } = windows(x, [kh, kw], op.strides, op.pads, op.dilations, false, 0, where);
  const n = x.shape[0];
  const mg = m / g;
  const outs: tf.Tensor[] = [];
  for (let gi = 0; gi < g; gi++) {
    const p = g === 1 ? patches : tf.slice(patches, [0, gi * cg, 0, 0, 0], [n, cg, kh * kw, outH, outW]);
    const cols = tf.reshape(tf.transpose(tf.reshape(p, [n, cg * kh * kw, outH, outW]), [0, 2, 3, 1]), [n * outH * outW, cg * kh * kw]);
    const wg = g === 1 ? vt : tf.slice(vt, [0, gi * mg], [cg * kh * kw, mg]);
    outs.push(tf.matMul(cols, wg)); // [N·OH·OW, M/g]
  }
  let y: tf.Tensor = outs.length === 1 ? outs[0] : tf.concat(outs, 1);
  if (bias) y = tf.add(y, bias);
  return tf.transpose(tf.reshape(y, [n, outH, outW, m]), [0, 3, 1, 2]);
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
