// Fusions of the patterns exporters write for ops ONNX lacked: LayerNorm as
// PyTorch < 2 exports it (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div,
// then Mul/Add by its scale and bias), and Gelu as x·0.5·(1 + erf(x/√2)).

import { plainWeight, type Node } from '@hnet/format';
import { count } from '../known.js';
import { otherInput, type Graph } from './graph.js';

const near = (v: number | null, target: number, tol = 1e-6): boolean => v !== null && Math.abs(v - target) <= tol * Math.max(1, Math.abs(target));

/** The one node reading `name`, of type `type`, when nothing else reads it. */
function next(g: Graph, name: string, type: string): Node | null {
  const c = g.consumers(name);
  return c.length === 1 && c[0].op.type === type && !g.isOutput(name) ? c[0] : null;
}

/** The trailing axes a ReduceMean with keepdims covers, as the first of them; null if not trailing. */
function trailingAxis(node: Node, rank: number): number | null {
  if (node.op.type !== 'ReduceMean' || !node.op.keepdims || !node.op.axes) return null;
  const axes = node.op.axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  return axes.every((a, i) => a === rank - axes.length + i) ? axes[0] : null;
}

export function fuseLayerNorm(g: Graph, notes: string[]): void {
  for (const mean of [...g.nodes]) {
    if (mean.op.type !== 'ReduceMean' || !g.nodes.includes(mean)) continue;
    const x = mean.inputs[0];
    const rank = g.shape(x).length;
    const axis = trailingAxis(mean, rank);
    if (axis === null || axis === 0) continue;
    const sub = next(g, mean.outputs[0], 'Sub');
    if (!sub || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) continue;
    const d = sub.outputs[0];
    const readers = g.consumers(d);
    const pow = readers.find((n) => n.op.type === 'Pow' && n.op.exponent === 2);
    const div = readers.find((n) => n.op.type === 'Div' && n.inputs[0] === d);
    if (readers.length !== 2 || !pow || !div || g.isOutput(d)) continue;
    const variance = next(g, pow.outputs[0], 'ReduceMean');
    if (!variance || trailingAxis(variance, rank) !== axis) continue;
    const addEps = next(g, variance.outputs[0], 'Add');
    const epsilon = addEps ? g.scalar(otherInput(addEps, variance.outputs[0])) : null;
    const sqrt = addEps && next(g, addEps.outputs[0], 'Sqrt');
    if (!addEps || epsilon === null || !sqrt || div.inputs[1] !== sqrt.outputs[0] || !g.soleUse(sqrt.outputs[0], div)) continue;
    const dims = g.shape(x).slice(axis);
    const size = count(dims);
    const chain = [mean, sub, pow, variance, addEps, sqrt, div];
    // Then, optionally, Mul by the scale and Add of the bias (constants of the normalized dims).
    let out = div.outputs[0];
    let scale: Float32Array = new Float32Array(size).fill(1);
    let bias: Float32Array | null = null as Float32Array | null;
    const mul = next(g, out, 'Mul');
    const s = mul && g.constant(otherInput(mul, out));
    if (mul && s && (s.values.length === size || s.values.length === 1)) {
      scale = s.values.length === size ? s.values : scale.fill(s.values[0]);
      chain.push(mul);
      out = mul.outputs[0];
      const add = next(g, out, 'Add');
      const b = add && g.constant(otherInput(add, out));
      if (add && b && (b.values.length === size || b.values.length === 1)) {
        bias = b.values.length === size ? b.values : new Float32Array(size).fill(b.values[0]);
        chain.push(add);
        out = add.outputs[0];
      }
    }
    const ln: Node = {
      name: mean.name, inputs: [x], outputs: [out],
      op: { type: 'LayerNorm', axis, epsilon, scale: plainWeight(scale, dims), bias: bias ? plainWeight(bias, dims) : null },
    };
    g.replace(chain, ln);
    notes.push(`${chain.map((n) => n.op.type).join('/')} from ${mean.name} fused into LayerNorm`);
  }
}

export function fuseGelu(g: Graph, notes: string[]): void {
  for (const erf of [...g.nodes]) {
    if (erf.op.type !== 'Erf' || !g.nodes.includes(erf)) continue;
    // x / √2 (or x · 1/√2) → Erf → + 1
    const scaled = g.producer(erf.inputs[0]);
    if (!scaled || !g.soleUse(erf.inputs[0], erf)) continue;
    const k = g.scalar(scaled.inputs[1]);
    const byRoot2 = (scaled.op.type === 'Div' && near(k, Math.SQRT2)) || (scaled.op.type === 'Mul' && near(k, Math.SQRT1_2));
    if (!byRoot2) continue;
    const x = scaled.inputs[0];
    const plus = next(g, erf.outputs[0], 'Add');
    if (!plus || !near(g.scalar(otherInput(plus, erf.outputs[0])), 1)) continue;
    // Then the product of x, (1 + erf) and 0.5, in the orders exporters write it.
    const m1 = next(g, plus.outputs[0], 'Mul');
    if (!m1) continue;
    const other = otherInput(m1, plus.outputs[0]);
    let chain: Node[] | null = null;
    if (other === x) {
      const m2 = next(g, m1.outputs[0], 'Mul');
      if (m2 && near(g.scalar(otherInput(m2, m1.outputs[0])), 0.5)) chain = [scaled, erf, plus, m1, m2];
    } else if (near(g.scalar(other), 0.5)) {
      const m2 = next(g, m1.outputs[0], 'Mul');
      if (m2 && otherInput(m2, m1.outputs[0]) === x) chain = [scaled, erf, plus, m1, m2];
    } else {
      const half = g.producer(other);
      if (half?.op.type === 'Mul' && g.soleUse(other, m1) && half.inputs.includes(x) && near(g.scalar(otherInput(half, x)), 0.5)) {
        chain = [half, scaled, erf, plus, m1];
      }
    }
    if (!chain) continue;
    const out = chain[chain.length - 1].outputs[0];
    g.replace(chain, { name: erf.name, op: { type: 'Gelu', tanhApproximation: false }, inputs: [x], outputs: [out] });
    notes.push(`Erf pattern ${chain.map((n) => n.op.type).join('/')} around ${erf.name} fused into Gelu`);
  }
}
