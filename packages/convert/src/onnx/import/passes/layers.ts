// Folds into the Dense/Conv2D before a node: BatchNorm, a constant bias Add,
// a constant scale (Mul/Div). Each applies only when the layer's output feeds
// that node alone (so it may change in place) and is not a graph output.
// Each fold looks at one node and says whether it folded it.

import { plainWeight, expandWeight, type Node, type Weight } from '@hnet/format';
import { Graph, otherInput } from './graph.js';

type Layer = Node & { op: { type: 'Dense' | 'Conv2D'; weight: Weight; bias: Weight | null } };

/** The Dense/Conv2D producing `name` when only `by` reads it. */
function soleLayer(g: Graph, name: string, by: Node): Layer | null {
  const p = g.producer(name);
  if (!p || (p.op.type !== 'Dense' && p.op.type !== 'Conv2D') || !g.soleUse(name, by)) return null;
  return p as Layer;
}

/** W[o, ...] *= k[o]; b[o] = b[o]·k[o] + add[o]. */
function rescale(layer: Layer, k: ArrayLike<number>, add: ArrayLike<number>): void {
  const m = layer.op.weight.shape[0];
  const w = Float32Array.from(expandWeight(layer.op.weight));
  const per = w.length / m;
  for (let o = 0; o < m; o++) for (let j = 0; j < per; j++) w[o * per + j] *= k[o];
  const b0 = layer.op.bias ? expandWeight(layer.op.bias) : new Float32Array(m);
  layer.op.weight = plainWeight(w, layer.op.weight.shape);
  layer.op.bias = plainWeight(Float32Array.from(b0, (v, o) => v * k[o] + add[o]), [m]);
}

/**
 * One value per output channel of a layer whose output has `rank` dims, from
 * a constant that broadcasts against it: a scalar, or m values along the
 * channel axis (1 for both Dense [N, out] and Conv2D [N, M, H, W]).
 */
function perChannel(c: { values: Float32Array; shape: number[] }, m: number, rank: number, channelAxis = 1): Float32Array | null {
  if (c.values.length === 1) return new Float32Array(m).fill(c.values[0]);
  if (c.values.length !== m || c.shape.length > rank) return null;
  const axis = c.shape.length - rank + channelAxis;
  return c.shape.every((d, i) => d === 1 || i === axis) ? c.values : null;
}

export function foldBatchNorm(g: Graph, bn: Node, notes: string[]): boolean {
  if (bn.op.type !== 'BatchNorm') return false;
  const layer = soleLayer(g, bn.inputs[0], bn);
  if (!layer || layer.op.weight.shape[0] !== bn.op.scale.length) return false;
  // y = s·(Wx + b − μ)/√(σ²+ε) + β  ⇒  W' = W·k, b' = (b − μ)·k + β with k = s/√(σ²+ε)
  const { scale, bias, mean, variance, epsilon } = bn.op;
  const k = Float64Array.from(scale, (s, i) => s / Math.sqrt(Math.fround(variance[i] + epsilon)));
  rescale(layer, k, Float64Array.from(mean, (mu, o) => -mu * k[o] + bias[o]));
  g.handOver(bn, layer);
  notes.push(`BatchNormalization ${bn.name} folded into ${layer.op.type} ${layer.name}`);
  return true;
}

/**
 * Add of a per-channel constant after a Dense/Conv2D becomes its bias; also
 * after the Reshape that wraps a Dense applied to a rank-3 input (the bias is
 * then along the last axis).
 */
export function foldBiasAdd(g: Graph, add: Node, notes: string[]): boolean {
  if (add.op.type !== 'Add') return false;
  const cName = add.inputs.find((i) => g.constant(i));
  if (!cName) return false;
  const x = otherInput(add, cName);
  const c = g.constant(cName)!;
  let layer = soleLayer(g, x, add);
  let reshape: Node | null = null;
  let values: Float32Array | null;
  if (layer) {
    values = perChannel(c, layer.op.weight.shape[0], g.shape(x).length);
  } else {
    const r = g.producer(x);
    if (r?.op.type !== 'Reshape' || !g.soleUse(x, add)) return false;
    layer = soleLayer(g, r.inputs[0], r);
    if (!layer || layer.op.type !== 'Dense') return false;
    const rank = g.shape(x).length;
    if (g.shape(x)[rank - 1] !== layer.op.weight.shape[0]) return false;
    values = perChannel(c, layer.op.weight.shape[0], rank, rank - 1);
    reshape = r;
  }
  if (!values || !layer) return false;
  rescale(layer, new Float32Array(values.length).fill(1), values);
  g.handOver(add, reshape ?? layer);
  notes.push(`Add ${add.name} fused as the bias of ${layer.op.type} ${layer.name}`);
  return true;
}

/** Mul/Div by a scalar or per-channel constant after a Dense/Conv2D scales its weight and bias. */
export function foldScale(g: Graph, node: Node, notes: string[]): boolean {
  if (node.op.type !== 'Mul' && node.op.type !== 'Div') return false;
  const cName = node.op.type === 'Div' ? node.inputs[1] : node.inputs.find((i) => g.constant(i));
  const c = cName ? g.constant(cName) : null;
  if (!c || !cName) return false;
  const x = otherInput(node, cName);
  const layer = soleLayer(g, x, node);
  if (!layer) return false;
  const k = perChannel(c, layer.op.weight.shape[0], g.shape(x).length);
  if (!k || (node.op.type === 'Div' && k.some((v) => v === 0))) return false;
  const factor = node.op.type === 'Div' ? Float64Array.from(k, (v) => 1 / v) : k;
  rescale(layer, factor, new Float32Array(k.length));
  g.handOver(node, layer);
  notes.push(`${node.op.type} ${node.name} folded into the weights of ${layer.op.type} ${layer.name}`);
  return true;
}
