// Passes that move a node's work into its neighbour: a zero Pad into the pads
// of the Conv/AveragePool after it; a Transpose before a flatten into the
// columns of the Dense layers after it (tf2onnx flattens NHWC this way);
// and the removal of nodes nothing reads.

import { expandWeight, plainWeight, type Node, type Pads4 } from '@hnet/format';
import { count } from '../known.js';
import type { Graph } from './graph.js';

export function foldPad(g: Graph, notes: string[]): void {
  for (const pad of [...g.nodes]) {
    if (pad.op.type !== 'Pad' || pad.op.value !== 0 || pad.op.pads.length !== 8) continue;
    const p = pad.op.pads;
    const [next] = g.consumers(pad.outputs[0]);
    if (!next || !g.soleUse(pad.outputs[0], next) || p[0] || p[1] || p[4] || p[5]) continue;
    const extra: Pads4 = [p[2], p[3], p[6], p[7]];
    const add = (pads: Pads4): Pads4 => pads.map((v, i) => v + extra[i]) as Pads4;
    if (next.op.type === 'Conv2D') {
      next.op.pads = add(next.op.pads);
    } else if (next.op.type === 'AveragePool') {
      // The explicit Pad's zeros are real inputs to the window, so they count.
      if (next.op.ceilMode || (!next.op.countIncludePad && next.op.pads.some((v) => v !== 0))) continue;
      next.op.pads = add(next.op.pads);
      next.op.countIncludePad = true;
    } else {
      continue;
    }
    next.inputs[0] = pad.inputs[0];
    g.remove(pad);
    notes.push(`Pad ${pad.name} folded into the pads of the next layer`);
  }
}

/**
 * Transpose (keeping the batch axis) → Flatten or Reshape to [N, features] →
 * Dense layers only: the flatten reads the untransposed tensor, and each
 * Dense's columns move to match: W'[o, map[j]] = W[o, j].
 */
export function foldTransposeIntoDense(g: Graph, notes: string[]): void {
  for (const t of [...g.nodes]) {
    if (t.op.type !== 'Transpose' || t.op.perm[0] !== 0) continue;
    const [flat] = g.consumers(t.outputs[0]);
    if (!flat || !g.soleUse(t.outputs[0], flat)) continue;
    const src = g.shape(t.inputs[0]);
    const features = count(src.slice(1));
    const flatShape = g.shape(flat.outputs[0]);
    const flattens = (flat.op.type === 'Flatten' || flat.op.type === 'Reshape') && flatShape.length === 2 &&
      flatShape[1] === features && src.slice(1).every((d) => d > 0);
    const denses = g.consumers(flat.outputs[0]);
    if (!flattens || g.isOutput(flat.outputs[0]) || !denses.length || denses.some((d) => d.op.type !== 'Dense')) continue;
    const perm = t.op.perm;
    const strides = new Array<number>(src.length).fill(1); // row-major strides of the source's features
    for (let i = src.length - 2; i >= 1; i--) strides[i] = strides[i + 1] * src[i + 1];
    const dims = perm.slice(1).map((p) => src[p]);
    const map = new Int32Array(features);
    for (let j = 0; j < features; j++) {
      let rest = j;
      let at = 0;
      for (let i = dims.length - 1; i >= 0; i--) {
        at += (rest % dims[i]) * strides[perm[i + 1]];
        rest = Math.floor(rest / dims[i]);
      }
      map[j] = at;
    }
    for (const d of denses as (Node & { op: { type: 'Dense' } })[]) {
      const [outF, inF] = d.op.weight.shape;
      const w = expandWeight(d.op.weight);
      const moved = new Float32Array(w.length);
      for (let o = 0; o < outF; o++) for (let j = 0; j < inF; j++) moved[o * inF + map[j]] = w[o * inF + j];
      d.op.weight = plainWeight(moved, [outF, inF]);
    }
    flat.op = { type: 'Flatten', axis: 1 };
    flat.inputs[0] = t.inputs[0];
    g.remove(t);
    notes.push(`Transpose ${t.name} before ${flat.name} folded into the columns of the layer after it`);
  }
}

/** Drops nodes whose output nothing reads (Constants whose value was folded into a layer). */
export function removeUnused(g: Graph): void {
  for (let changed = true; changed;) {
    const unused = g.nodes.filter((n) => !g.isOutput(n.outputs[0]) && g.consumers(n.outputs[0]).length === 0);
    changed = unused.length > 0;
    if (changed) g.remove(...unused);
  }
}
