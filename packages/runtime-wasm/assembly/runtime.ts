// A loaded model: its weights in the chosen mode, the arena planned for one
// batch size, and the run loop that walks the nodes in order.
//
// Memory, all of it planned before the first inference:
//   weights  weights.ts: f32, or stored buckets plus a tile (streaming)
//   arena    plan.ts: every tensor of the graph for the current batch size,
//            with buffers shared between tensors whose lifetimes do not overlap
// hnet_run allocates nothing; a new batch size re-plans the arena once.

import { E_BUDGET, fail } from "./errors";
import {
  Model, Node,
  OP_DENSE, OP_CONV2D, OP_RELU, OP_LEAKYRELU, OP_SIGMOID, OP_TANH, OP_SOFTMAX, OP_LOGSOFTMAX,
  OP_FLATTEN, OP_RESHAPE, OP_MAXPOOL, OP_AVERAGEPOOL, OP_GLOBALAVERAGEPOOL, OP_BATCHNORM, OP_ADD,
  OP_CONSTANT, OP_CONCAT, OP_SLICE, OP_CLIP, OP_HARDSIGMOID, OP_HARDSWISH, OP_MUL, OP_SUB, OP_DIV, OP_POW, OP_SQRT,
  OP_EXP, OP_ERF, OP_NEG, OP_REDUCEMEAN, OP_REDUCESUM, OP_REDUCEMAX, OP_TRANSPOSE, OP_MATMUL, OP_LAYERNORM, OP_GELU,
  OP_SQUEEZE, OP_UNSQUEEZE, OP_PAD, OP_GLOBALMAXPOOL, OP_RESIZE, OP_CONVTRANSPOSE, OP_EXPAND,
} from "./model";
import { MAX_RANK } from "./limits";
import {
  ConvShape, ConvTransposeShape, blockGemv, convDirect, convGemm, convNaive, convTranspose, convTransposeInit,
  convTransposeNaive, depthwiseConv, gemm, gemmNaive, im2col, matmul, matmulNaive, padCopy, setNaiveExpand,
} from "./kernels";
import { Step } from "./plan";
import * as ops from "./ops";
import { Plan, planArena, shapesFit } from "./plan";
import { MODE_AUTO, MODE_MATERIALIZED, MODE_STREAMING, Weights, align16, tileFloats, weightBytes } from "./weights";

/** Budget when the caller gives 0: 1 GiB. */
export const DEFAULT_BUDGET: u64 = 1 << 30;

/** Use the naive reference kernels (tests compare them with the fast ones). */
export let naiveKernels = false;
export function setNaiveKernels(on: bool): void { naiveKernels = on; setNaiveExpand(on); }

export class Runtime {
  model: Model;
  mode: i32 = MODE_MATERIALIZED;
  budget: u64 = DEFAULT_BUDGET;
  weights: Weights = new Weights();
  plan: Plan = new Plan();     // the plan for the current batch (batch 0: none yet)
  planAt1: Plan | null = null; // made by the load, used by the first prepare at batch 1
  arena: usize = 0;
  // Scratch for the odometers (a multi-index) and the kernels' shape records, made once.
  index: StaticArray<i32> = new StaticArray<i32>(MAX_RANK);
  conv: ConvShape = new ConvShape();
  convT: ConvTransposeShape = new ConvTransposeShape();
  pool: ops.PoolShape = new ops.PoolShape();

  constructor(model: Model) {
    this.model = model;
  }

  get batch(): i32 {
    return this.plan.batch;
  }

  release(): void {
    this.weights.release();
    if (this.arena != 0) heap.free(this.arena);
    this.arena = 0;
    this.plan = new Plan();
    this.planAt1 = null;
  }

  /**
   * Chooses the mode (auto: materialized when it fits the budget, else
   * streaming) and builds the weights from the file bytes at `file`.
   */
  loadWeights(file: usize, requested: i32, budget: u64): bool {
    const m = this.model;
    this.budget = budget == 0 ? DEFAULT_BUDGET : budget;
    // Shapes at batch 1 validate the graph and estimate the arena.
    const plan1 = planArena(m, 1, naiveKernels);
    if (plan1 == null || !shapesFit(m, 2, plan1.shapes)) return false;
    const arena1 = plan1.arenaBytes;
    const tile = align16(<u64>tileFloats(m) * 4);
    const materialized = weightBytes(m, MODE_MATERIALIZED) + arena1;
    const streaming = weightBytes(m, MODE_STREAMING) + tile + arena1;
    let mode = requested;
    if (mode == MODE_AUTO) mode = materialized <= this.budget ? MODE_MATERIALIZED : MODE_STREAMING;
    const need = mode == MODE_MATERIALIZED ? materialized : streaming;
    if (need > this.budget) {
      fail(E_BUDGET, "the model needs " + need.toString() + " bytes " + (mode == MODE_MATERIALIZED ? "materialized" : "streaming") +
        " at batch 1 (materialized " + materialized.toString() + ", streaming " + streaming.toString() +
        "), over the memory budget of " + this.budget.toString() + " bytes");
      return false;
    }
    this.mode = mode;
    this.weights.build(file, m, mode);
    this.planAt1 = plan1;
    return true;
  }

  /** Plans and allocates the arena for `batch`, within the budget. */
  prepare(batch: i32): bool {
    const kept = this.planAt1;
    this.planAt1 = null;
    const p = kept != null && batch == 1 ? kept : planArena(this.model, batch, naiveKernels);
    if (p == null) return false;
    const weightsBytes = this.weights.bytes;
    if (weightsBytes + p.arenaBytes > this.budget) {
      fail(E_BUDGET, "batch " + batch.toString() + " needs " + p.arenaBytes.toString() + " bytes of activations on top of " +
        weightsBytes.toString() + " bytes of weights, over the memory budget of " + this.budget.toString() + " bytes");
      return false;
    }
    if (this.arena != 0) heap.free(this.arena);
    this.arena = heap.alloc(<usize>max<u64>(p.arenaBytes, 16));
    memory.fill(this.arena, 0, <usize>p.arenaBytes);
    this.plan = p;
    return true;
  }

  tensorPtr(t: i32): usize {
    return this.arena + unchecked(this.plan.offsets[t]);
  }

  // ---- Run ------------------------------------------------------------------

  run(): void {
    const m = this.model;
    const naive = naiveKernels;
    const p = this.plan;
    for (let i = 0; i < m.nodes.length; i++) {
      const n = unchecked(m.nodes[i]);
      const x0 = n.input0 >= 0 ? n.input0 : n.output; // Constant has no input
      const xs = unchecked(p.shapes[x0]);
      const ys = unchecked(p.shapes[n.output]);
      const x = this.tensorPtr(x0);
      const y = this.tensorPtr(n.output);
      const size = unchecked(p.sizes[n.output]);
      switch (n.op) {
        case OP_DENSE: {
          // y [N, out] = x [N, in] · Wᵀ + b, a tile of weight rows (output units) at a time
          const w = n.weight!;
          const b = n.bias;
          const outF = ys[1];
          if (!naive && xs[0] == 1 && w.stored != 0 && w.block > 1) { // streaming xxh32-block at batch 1: fused, no tile
            blockGemv(w, x, y, b != null ? b.dense : 0, this.weights.tile);
            break;
          }
          const step = this.weights.rowsPerCall(w);
          for (let o = 0; o < outF; o += step) {
            const count = min(step, outF - o);
            const rows = this.weights.rows(w, o, count);
            const bias = b != null ? b.dense + (<usize>o << 2) : 0;
            const yo = y + (<usize>o << 2);
            if (naive) gemmNaive(x, xs[0], xs[1], rows, count, yo, outF, 1, bias);
            else gemm(x, xs[0], xs[1], rows, count, yo, outF, 1, bias);
          }
          break;
        }
        case OP_CONV2D: {
          const w = n.weight!;
          const b = n.bias;
          const s = this.conv;
          s.n = xs[0]; s.c = xs[1]; s.h = xs[2]; s.w = xs[3];
          s.m = ys[1]; s.oh = ys[2]; s.ow = ys[3];
          s.kh = n.kh; s.kw = n.kw; s.sh = n.sh; s.sw = n.sw;
          s.pt = n.pt; s.pl = n.pl; s.dh = n.dh; s.dw = n.dw; s.group = n.group;
          if (!naive && s.group == s.c && s.m == s.c) {
            // depthwise: a tile of channels at a time, each image, SIMD over output columns
            const step = this.weights.rowsPerCall(w);
            for (let c0 = 0; c0 < s.c; c0 += step) {
              const count = min(step, s.c - c0);
              const rows = this.weights.rows(w, c0, count);
              const bias = b != null ? b.dense + (<usize>c0 << 2) : 0;
              for (let im = 0; im < s.n; im++) depthwiseConv(s, x, im, c0, count, rows, bias, n.pb, n.pr, y, this.arena + p.scratchOffset);
            }
            break;
          }
          if (naive) {
            for (let o = 0; o < s.m; o++) {
              convNaive(s, x, this.weights.rows(w, o, 1), o, b != null ? load<f32>(b.dense + (<usize>o << 2)) : 0, y);
            }
            break;
          }
          // Per group: y[b, m, :] = W[m, :] · im2col(x[b, group]) [Kc, P] + bias[m],
          // a tile of weight rows at a time, shared by every image of the batch.
          const plane = s.oh * s.ow;
          const mg = s.m / s.group;
          const kc = w.cols;
          const col = this.arena + p.scratchOffset;
          const step = min(this.weights.rowsPerCall(w), mg);
          // Stride 1 along W: taps read runs of x in place (of a padded copy when
          // there is padding), no im2col matrix.
          const direct = s.sw == 1;
          const padded = n.pt + n.pl + n.pb + n.pr > 0;
          const cg = s.c / s.group;
          const srcH = s.h + n.pt + n.pb, srcW = s.w + n.pl + n.pr;
          const copy = col + (<usize>align16(<u64>kc * 4)); // after the tap table
          for (let g = 0; g < s.group; g++) {
            for (let m0 = g * mg; m0 < (g + 1) * mg; m0 += step) {
              const count = min(step, (g + 1) * mg - m0);
              const rows = this.weights.rows(w, m0, count);
              const bias = b != null ? b.dense + (<usize>m0 << 2) : 0;
              for (let im = 0; im < s.n; im++) {
                const out = y + ((<usize>(im * s.m + m0) * plane) << 2);
                if (direct && padded) {
                  padCopy(s, x, im, g, n.pb, n.pr, copy);
                  convDirect(s, copy, srcH, srcW, rows, count, out, bias, col);
                } else if (direct) {
                  convDirect(s, x + ((<usize>(im * s.c + g * cg) * s.h * s.w) << 2), s.h, s.w, rows, count, out, bias, col);
                } else {
                  im2col(s, x, im, g, col);
                  convGemm(rows, count, kc, col, plane, out, bias);
                }
              }
            }
          }
          break;
        }
        case OP_RELU: ops.relu(x, y, size); break;
        case OP_LEAKYRELU: ops.leakyRelu(x, y, size, n.alpha); break;
        case OP_SIGMOID: this.unary(ops.U_SIGMOID, x, y, size, 0, 0, naive); break;
        case OP_TANH: ops.tanh(x, y, size); break;
        case OP_SOFTMAX:
        case OP_LOGSOFTMAX: {
          const rank = xs.length;
          const axis = n.axis < 0 ? n.axis + rank : n.axis;
          let outer = 1, inner = 1;
          for (let d = 0; d < axis; d++) outer *= xs[d];
          for (let d = axis + 1; d < rank; d++) inner *= xs[d];
          // rows of the last axis (attention, classifiers) in f32x4; any other axis naively
          if (!naive && inner == 1) ops.softmaxRows(x, y, outer, xs[axis], n.op == OP_LOGSOFTMAX);
          else ops.softmax(x, y, outer, xs[axis], inner, n.op == OP_LOGSOFTMAX);
          break;
        }
        case OP_FLATTEN:
        case OP_RESHAPE:
        case OP_SQUEEZE:
        case OP_UNSQUEEZE: ops.copy(x, y, size); break; // nothing moves when the planner shares the buffer
        case OP_MAXPOOL:
        case OP_AVERAGEPOOL: {
          const s = this.pool;
          s.n = xs[0]; s.c = xs[1]; s.h = xs[2]; s.w = xs[3]; s.oh = ys[2]; s.ow = ys[3];
          s.kh = n.kh; s.kw = n.kw; s.sh = n.sh; s.sw = n.sw;
          s.pt = n.pt; s.pl = n.pl; s.pb = n.pb; s.pr = n.pr; s.dh = n.dh; s.dw = n.dw;
          if (n.op == OP_MAXPOOL) ops.maxPool(s, x, y);
          else ops.averagePool(s, x, y, n.countIncludePad);
          break;
        }
        case OP_GLOBALAVERAGEPOOL: ops.globalAveragePool(x, y, xs[0] * xs[1], xs[2] * xs[3]); break;
        case OP_BATCHNORM: {
          let inner = 1;
          for (let d = 2; d < xs.length; d++) inner *= xs[d];
          ops.batchNorm(x, y, xs[0], xs[1], inner, n.bnScale, n.bnBias, n.bnMean, n.bnVariance, n.epsilon);
          break;
        }
        case OP_ADD:
        case OP_MUL:
        case OP_SUB:
        case OP_DIV: {
          const op = n.op == OP_ADD ? ops.B_ADD : n.op == OP_SUB ? ops.B_SUB : n.op == OP_MUL ? ops.B_MUL : ops.B_DIV;
          const bc = unchecked(p.steps[i]).broadcast!;
          if (naive) ops.binaryNaive(op, x, this.tensorPtr(n.input1), y, bc);
          else ops.binary(op, x, this.tensorPtr(n.input1), y, bc, this.index);
          break;
        }
        case OP_CONSTANT: {
          // materialized: a copy of the f32 value; streaming: its rows rebuilt a tile at a time
          const w = n.weight!;
          const step = this.weights.rowsPerCall(w);
          const rowBytes = <usize>w.cols << 2;
          for (let r = 0; r < w.rows; r += step) {
            const count = min(step, w.rows - r);
            memory.copy(y + <usize>r * rowBytes, this.weights.rows(w, r, count), <usize>count * rowBytes);
          }
          break;
        }
        case OP_CONCAT:
        case OP_SLICE:
        case OP_TRANSPOSE:
        case OP_EXPAND:
        case OP_PAD: {
          if (n.op == OP_PAD) ops.fill(y, size, n.value);
          this.copies(n, unchecked(p.steps[i]), y, naive);
          break;
        }
        case OP_CLIP: this.unary(ops.U_CLIP, x, y, size, n.lo, n.hi, naive); break;
        case OP_HARDSIGMOID: this.unary(ops.U_HARDSIGMOID, x, y, size, n.alpha, n.beta, naive); break;
        case OP_HARDSWISH: this.unary(ops.U_HARDSWISH, x, y, size, 0, 0, naive); break;
        case OP_NEG: this.unary(ops.U_NEG, x, y, size, 0, 0, naive); break;
        case OP_SQRT: this.unary(ops.U_SQRT, x, y, size, 0, 0, naive); break;
        case OP_EXP: this.unary(ops.U_EXP, x, y, size, 0, 0, naive); break;
        case OP_POW:
          if (n.exponent == 2) this.unary(ops.U_SQUARE, x, y, size, 0, 0, naive);
          else ops.pow(x, y, size, n.exponent);
          break;
        case OP_ERF: this.unary(ops.U_ERF, x, y, size, 0, 0, naive); break;
        case OP_GELU: this.unary(n.tanhApproximation ? ops.U_GELU_TANH : ops.U_GELU, x, y, size, 0, 0, naive); break;
        case OP_REDUCEMEAN:
        case OP_REDUCESUM:
        case OP_REDUCEMAX: {
          const op = n.op == OP_REDUCEMEAN ? ops.R_MEAN : n.op == OP_REDUCESUM ? ops.R_SUM : ops.R_MAX;
          const red = unchecked(p.steps[i]).reduction!;
          if (naive) ops.reduceNaive(op, x, y, red, this.index);
          else ops.reduce(op, x, y, red, this.index);
          break;
        }
        case OP_MATMUL: {
          const mm = unchecked(p.steps[i]).matmul!;
          if (naive) matmulNaive(x, this.tensorPtr(n.input1), y, mm);
          else matmul(x, this.tensorPtr(n.input1), y, mm, this.arena + p.scratchOffset, this.index);
          break;
        }
        case OP_LAYERNORM: {
          const rank = xs.length;
          const axis = n.axis < 0 ? n.axis + rank : n.axis;
          let len = 1;
          for (let d = axis; d < rank; d++) len *= xs[d];
          const bias = n.bias != null ? n.bias!.dense : 0;
          if (naive) ops.layerNormNaive(x, y, size / len, len, n.scale!.dense, bias, n.epsilon);
          else ops.layerNorm(x, y, size / len, len, n.scale!.dense, bias, n.epsilon);
          break;
        }
        case OP_GLOBALMAXPOOL:
          if (naive) ops.globalMaxPoolNaive(x, y, xs[0] * xs[1], xs[2] * xs[3]);
          else ops.globalMaxPool(x, y, xs[0] * xs[1], xs[2] * xs[3]);
          break;
        case OP_RESIZE:
          ops.resize(x, y, xs[0] * xs[1], xs[2], xs[3], ys[2], ys[3], unchecked(p.steps[i]).resize!);
          break;
        case OP_CONVTRANSPOSE: {
          const w = n.weight!;
          const s = this.convT;
          s.n = xs[0]; s.c = xs[1]; s.h = xs[2]; s.w = xs[3];
          s.m = ys[1]; s.oh = ys[2]; s.ow = ys[3];
          s.kh = n.kh; s.kw = n.kw; s.sh = n.sh; s.sw = n.sw;
          s.pt = n.pt; s.pl = n.pl; s.dh = n.dh; s.dw = n.dw; s.group = n.group;
          convTransposeInit(s, n.bias != null ? n.bias!.dense : 0, y);
          // a tile of weight rows (input channels) at a time, each scattered into y
          const step = this.weights.rowsPerCall(w);
          for (let c0 = 0; c0 < s.c; c0 += step) {
            const count = min(step, s.c - c0);
            const rows = this.weights.rows(w, c0, count);
            if (naive) convTransposeNaive(s, x, c0, count, rows, y);
            else convTranspose(s, x, c0, count, rows, y);
          }
          break;
        }
        default:
          break;
      }
    }
  }

  unary(op: i32, x: usize, y: usize, size: i32, p: f32, q: f32, naive: bool): void {
    if (naive) ops.unaryNaive(op, x, y, size, p, q);
    else ops.unary(op, x, y, size, p, q);
  }

  /** The strided copies of a data-movement node, each from its input. */
  copies(n: Node, step: Step, y: usize, naive: bool): void {
    for (let k = 0; k < step.copies.length; k++) {
      const c = unchecked(step.copies[k]);
      const src = this.tensorPtr(unchecked(n.inputs[c.input]));
      if (naive) ops.copyStridedNaive(src, y, c);
      else ops.copyStrided(src, y, c, this.index);
    }
  }
}
