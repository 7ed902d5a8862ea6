// The equal-size dense baseline of `hnet frontier` (HashedNets' "NN" at equal
// memory): the same architecture with every hidden width (the outputs of each
// Dense/Conv2D but the last) scaled by `width`, at least 1, and the inputs of
// the layers after it following. Its weights are placeholders (zeros): the
// frontier trains it from scratch (init 'scratch').

import { inferOpShape, nodeLabel, plainWeight, sizeOf, type DType, type Model, type Node, type Weight } from '@hnet/format';
import { UsageError } from './args.js';

const zeros = (shape: number[], dtype: DType): Weight => plainWeight(new Float32Array(sizeOf(shape)), shape, dtype);

/** `model` with hidden widths × width, weights stored as `dtype` (biases float32). */
export function narrowModel(model: Model, width: number, dtype: DType): Model {
  const weighted = model.nodes.filter((n) => n.op.type === 'Dense' || n.op.type === 'Conv2D');
  const last = weighted[weighted.length - 1];
  const input = model.inputs[0];
  const shapes = new Map<string, number[]>([[input.name, input.shape.map((d) => (d === -1 ? 1 : d))]]);
  const nodes: Node[] = model.nodes.map((node, i) => {
    const where = nodeLabel(node, i);
    const x = node.inputs.map((t) => shapes.get(t)!);
    const op = node.op;
    const scaled = (n: number): number => (node === last ? n : Math.max(1, Math.round(n * width)));
    let next: Node;
    switch (op.type) {
      case 'Dense': {
        const out = scaled(op.weight.shape[0]);
        next = { ...node, op: { ...op, weight: zeros([out, x[0][1]], dtype), bias: op.bias && zeros([out], 'float32') } };
        break;
      }
      case 'Conv2D': {
        if (op.group !== 1) throw new UsageError(`${where}: the equal-size dense net narrows ungrouped convolutions only (group ${op.group})`);
        const [m, , kh, kw] = op.weight.shape;
        const out = scaled(m);
        next = { ...node, op: { ...op, weight: zeros([out, x[0][1], kh, kw], dtype), bias: op.bias && zeros([out], 'float32') } };
        break;
      }
      case 'BatchNorm': {
        const c = x[0][1];
        const cut = (a: Float32Array): Float32Array => a.slice(0, c);
        next = { ...node, op: { ...op, scale: cut(op.scale), bias: cut(op.bias), mean: cut(op.mean), variance: cut(op.variance) } };
        break;
      }
      case 'Reshape':
        if (op.shape.slice(1).some((d) => d > 0)) throw new UsageError(`${where}: a Reshape to fixed sizes [${op.shape}] cannot follow narrower layers; the equal-size dense net needs Flatten`);
        next = node;
        break;
      default:
        next = node;
    }
    shapes.set(node.outputs[0], inferOpShape(where, next.op, x));
    return next;
  });
  return { ...model, nodes, metadata: { ...model.metadata } };
}
