// hnet model → a standard dense ONNX model: every weight is expanded to its
// virtual values, so any ONNX tool can check or run the network a .hnet file
// stands for.
//
// Opset: 13, the importer's own, unless the model uses an op that opset 13
// lacks: HardSwish needs 14 and LayerNorm (LayerNormalization) 17
// (exportOpset). Every translation below means the same at 13, 14 and 17:
// the ops it writes did not change meaning between them (Reduce* moved `axes`
// to an input only at 18). Gelu is written as its Erf (or Tanh) formula,
// because the Gelu op exists only from opset 20, which few tools read.

import { CONVERT_VERSION } from '../version.js';
import { expandWeight, type Model, type Node, type Op, type OpType, type TensorInfo, type Weight } from '@hnet/format';
import { DataType, onnx, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';
import { floatTensor, int64Tensor } from './tensors.js';

/** The opset of an export that uses only opset-13 ops (most models). */
export const EXPORT_OPSET = 13;

/** The ops that need a later opset than EXPORT_OPSET, and which. */
const OPSET_OF: Partial<Record<OpType, number>> = { HardSwish: 14, LayerNorm: 17 };

/** The opset exportOnnx writes for this model: the highest any of its ops needs. */
export function exportOpset(model: Model): number {
  return Math.max(EXPORT_OPSET, ...model.nodes.map((n) => OPSET_OF[n.op.type] ?? EXPORT_OPSET));
}

const A = onnx.AttributeProto.AttributeType;
const int = (name: string, i: number): AttributeProto => ({ name, type: A.INT, i });
const float = (name: string, f: number): AttributeProto => ({ name, type: A.FLOAT, f });
const ints = (name: string, v: readonly number[]): AttributeProto => ({ name, type: A.INTS, ints: [...v] });
const str = (name: string, s: string): AttributeProto => ({ name, type: A.STRING, s: new TextEncoder().encode(s) });
const tensor = (name: string, t: TensorProto): AttributeProto => ({ name, type: A.TENSOR, t });

function valueInfo(t: TensorInfo): ValueInfoProto {
  return {
    name: t.name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: t.shape.map((d) => (d < 0 ? { dimParam: 'N' } : { dimValue: d })) },
      },
    },
  };
}

/** What a translation may add to the graph besides its own node. */
interface Graph {
  /** A float initializer holding a weight's virtual values, in its shape. */
  weight(base: string, w: Weight): string;
  /** A 1-D float initializer. */
  floats(base: string, data: Float32Array): string;
  /** A float scalar initializer. */
  scalar(base: string, value: number): string;
  /** A 1-D int64 initializer. */
  int64s(base: string, values: readonly number[]): string;
  /** A node computing an intermediate tensor; returns that tensor's name. */
  step(opType: string, inputs: string[], attribute?: AttributeProto[]): string;
  /** A 1-D int64 tensor [batch]: the graph's batch size (the first input's symbolic dimension). */
  batch(): string;
}

/** The one node that writes a model node's outputs: its op type, all its inputs, its attributes. */
type Translation = [opType: string, inputs: string[], attributes: AttributeProto[]];

/** Serialized ONNX ModelProto for a model. */
export function exportOnnx(model: Model): Uint8Array {
  const initializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  // Generated initializer names must avoid every tensor the model already names
  // (a node "fc" may well output a tensor called "fc.weight"); node names are
  // a namespace of their own.
  const tensorNames = new Set<string>([
    ...model.inputs.map((t) => t.name), ...model.outputs.map((t) => t.name),
    ...model.nodes.flatMap((n) => [...n.inputs, ...n.outputs]),
  ]);
  const nodeNames = new Set<string>();
  const unique = (used: Set<string>, base: string): string => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const uniqueName = (base: string): string => unique(tensorNames, base);
  const addInitializer = (t: TensorProto): string => {
    initializers.push(t);
    return t.name!;
  };
  let batchTensor: string | null = null;

  model.nodes.forEach((node: Node, i: number) => {
    const name = unique(nodeNames, node.name || `${node.op.type}_${i}`);
    let steps = 0;
    const graph: Graph = {
      weight: (base, w) => addInitializer(floatTensor(uniqueName(base), w.shape, expandWeight(w))),
      floats: (base, data) => addInitializer(floatTensor(uniqueName(base), [data.length], data)),
      scalar: (base, value) => addInitializer(floatTensor(uniqueName(base), [], Float32Array.of(value))),
      int64s: (base, values) => addInitializer(int64Tensor(uniqueName(base), values.map(clampInt64))),
      step: (opType, inputs, attribute = []) => {
        const output = uniqueName(`${name}.${opType}_${steps++}`);
        nodes.push({ name: unique(nodeNames, output), opType, domain: '', input: inputs, output: [output], attribute });
        return output;
      },
      // Written once, where the first Expand needs it: Shape of the first input with the symbolic dim, sliced to that dim.
      batch: () => {
        if (batchTensor) return batchTensor;
        const input = model.inputs.find((t) => t.shape.includes(-1)) ?? model.inputs[0];
        const axis = Math.max(0, input.shape.indexOf(-1));
        const shape = graph.step('Shape', [input.name]);
        batchTensor = graph.step('Slice', [shape, graph.int64s(`${name}.batch_start`, [axis]), graph.int64s(`${name}.batch_end`, [axis + 1])]);
        return batchTensor;
      },
    };
    const [opType, input, attribute] = translate(node, name, graph);
    nodes.push({ name, opType, domain: '', input, output: [...node.outputs], attribute });
  });

  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'hnet',
    producerVersion: CONVERT_VERSION,
    opsetImport: [{ domain: '', version: exportOpset(model) }],
    metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'hnet',
      node: nodes,
      initializer: initializers,
      input: model.inputs.map(valueInfo),
      output: model.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Slice bounds may say "to the end" with a huge number; ONNX clamps them the same way, and int64 must be exact. */
function clampInt64(v: number): number {
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, v));
}

function translate(node: Node, name: string, g: Graph): Translation {
  const op: Op = node.op;
  const x = [...node.inputs];
  const withBias = (w: Weight, b: Weight | null): string[] => [...x, g.weight(`${name}.weight`, w), ...(b ? [g.weight(`${name}.bias`, b)] : [])];
  switch (op.type) {
    case 'Dense': // y = x · Wᵀ + b  ==  Gemm(x, W, b, transB=1)
      return ['Gemm', withBias(op.weight, op.bias), [int('transB', 1)]];
    case 'Conv2D':
      return ['Conv', withBias(op.weight, op.bias), [
        ints('kernel_shape', op.weight.shape.slice(2)), ints('strides', op.strides), ints('pads', op.pads),
        ints('dilations', op.dilations), int('group', op.group),
      ]];
    case 'ConvTranspose': // weight [C, M / group, KH, KW], as ONNX has it
      return ['ConvTranspose', withBias(op.weight, op.bias), [
        ints('kernel_shape', op.weight.shape.slice(2)), ints('strides', op.strides), ints('pads', op.pads),
        ints('dilations', op.dilations), ints('output_padding', op.outputPadding), int('group', op.group),
      ]];
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'Add':
    case 'Mul':
    case 'Sub':
    case 'Div':
    case 'Sqrt':
    case 'Exp':
    case 'Erf':
    case 'Neg':
    case 'MatMul':
    case 'HardSwish': // opset 14
      return [op.type, x, []];
    case 'LeakyRelu':
      return ['LeakyRelu', x, [float('alpha', op.alpha)]];
    case 'Softmax':
    case 'LogSoftmax':
      return [op.type, x, [int('axis', op.axis)]];
    case 'Flatten':
      return ['Flatten', x, [int('axis', op.axis)]];
    case 'Reshape':
      return ['Reshape', [...x, g.int64s(`${name}.shape`, op.shape)], []];
    case 'MaxPool':
      return ['MaxPool', x, [
        ints('kernel_shape', op.kernel), ints('strides', op.strides), ints('pads', op.pads),
        ints('dilations', op.dilations), int('ceil_mode', op.ceilMode ? 1 : 0),
      ]];
    case 'AveragePool':
      return ['AveragePool', x, [
        ints('kernel_shape', op.kernel), ints('strides', op.strides), ints('pads', op.pads),
        int('ceil_mode', op.ceilMode ? 1 : 0), int('count_include_pad', op.countIncludePad ? 1 : 0),
      ]];
    case 'BatchNorm':
      return ['BatchNormalization', [
        ...x, g.floats(`${name}.scale`, op.scale), g.floats(`${name}.bias`, op.bias),
        g.floats(`${name}.mean`, op.mean), g.floats(`${name}.var`, op.variance),
      ], [float('epsilon', op.epsilon)]];
    case 'Constant': // a hashed constant is written as its virtual values, like any weight
      return ['Constant', [], [tensor('value', floatTensor(`${name}.value`, op.value.shape, expandWeight(op.value)))]];
    case 'Concat':
      return ['Concat', x, [int('axis', op.axis)]];
    case 'Slice':
      return ['Slice', [
        ...x, g.int64s(`${name}.starts`, op.starts), g.int64s(`${name}.ends`, op.ends),
        g.int64s(`${name}.axes`, op.axes), g.int64s(`${name}.steps`, op.steps),
      ], []];
    case 'Clip': // opset 11+: the bounds are optional inputs; '' skips min
      return ['Clip', [
        ...x, op.min === null ? '' : g.scalar(`${name}.min`, op.min), ...(op.max === null ? [] : [g.scalar(`${name}.max`, op.max)]),
      ], []];
    case 'HardSigmoid':
      return ['HardSigmoid', x, [float('alpha', op.alpha), float('beta', op.beta)]];
    case 'Pow':
      return ['Pow', [...x, g.scalar(`${name}.exponent`, op.exponent)], []];
    case 'ReduceMean':
    case 'ReduceMax': // opset 13-17: axes is an attribute, absent = all axes
      return [op.type, x, [...(op.axes ? [ints('axes', op.axes)] : []), int('keepdims', op.keepdims ? 1 : 0)]];
    case 'ReduceSum': // opset 13: axes is an input, absent = all axes
      return ['ReduceSum', [...x, ...(op.axes ? [g.int64s(`${name}.axes`, op.axes)] : [])], [int('keepdims', op.keepdims ? 1 : 0)]];
    case 'Transpose':
      return ['Transpose', x, [ints('perm', op.perm)]];
    case 'LayerNorm': // opset 17
      return ['LayerNormalization', [...x, g.weight(`${name}.scale`, op.scale), ...(op.bias ? [g.weight(`${name}.bias`, op.bias)] : [])], [
        int('axis', op.axis), float('epsilon', op.epsilon),
      ]];
    case 'Gelu':
      return gelu(x[0], op.tanhApproximation, name, g);
    case 'Squeeze':
    case 'Unsqueeze': // opset 13: axes is an input
      return [op.type, [...x, g.int64s(`${name}.axes`, op.axes)], []];
    case 'Pad': // pads [begins..., ends...], as ONNX orders them
      return ['Pad', [...x, g.int64s(`${name}.pads`, op.pads), g.scalar(`${name}.value`, op.value)], [str('mode', 'constant')]];
    case 'Resize': // scales of the NCHW input: N and C stay; roi is unused by these modes
      return ['Resize', [...x, '', g.floats(`${name}.scales`, Float32Array.of(1, 1, op.scales[0], op.scales[1]))], [
        str('mode', op.mode), str('coordinate_transformation_mode', op.coordinates), str('nearest_mode', op.nearest),
      ]];
    case 'Expand':
      return ['Expand', [...x, expandShape(op.shape, name, g)], []];
  }
}

/** Gelu as the formula PyTorch exports: 0.5·x·(1 + erf(x/√2)), or with tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function gelu(x: string, tanhApproximation: boolean, name: string, g: Graph): Translation {
  let inner: string;
  if (tanhApproximation) {
    const cube = g.step('Pow', [x, g.scalar(`${name}.three`, 3)]);
    const poly = g.step('Add', [x, g.step('Mul', [cube, g.scalar(`${name}.c`, 0.044715)])]);
    inner = g.step('Tanh', [g.step('Mul', [poly, g.scalar(`${name}.sqrt_2_over_pi`, Math.sqrt(2 / Math.PI))])]);
  } else {
    inner = g.step('Erf', [g.step('Div', [x, g.scalar(`${name}.sqrt2`, Math.SQRT2)])]);
  }
  const half = g.step('Mul', [x, g.step('Add', [inner, g.scalar(`${name}.one`, 1)])]);
  return ['Mul', [half, g.scalar(`${name}.half`, 0.5)], []];
}

/** Expand's target shape: constant, or with the graph's batch size computed where the shape says -1. */
function expandShape(shape: readonly number[], name: string, g: Graph): string {
  if (!shape.includes(-1)) return g.int64s(`${name}.shape`, shape);
  // Runs of known dims become constants; each -1 is the batch tensor.
  const parts: string[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length) parts.push(g.int64s(`${name}.shape`, run));
    run = [];
  };
  for (const d of shape) {
    if (d === -1) {
      flush();
      parts.push(g.batch());
    } else {
      run.push(d);
    }
  }
  flush();
  return g.step('Concat', parts, [int('axis', 0)]);
}
