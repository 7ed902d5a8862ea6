// hnet model → a standard dense ONNX model (opset 13): every weight is
// expanded to its virtual values, so any ONNX tool can check or run the
// network a .hnet file stands for.

import { CONVERT_VERSION } from '../version.js';
import { expandWeight, pending11, type Model, type Node, type Op, type TensorInfo, type Weight } from '@hnet/format';
import { DataType, onnx, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';
import { floatTensor, int64Tensor } from './tensors.js';

export const EXPORT_OPSET = 13;

const A = onnx.AttributeProto.AttributeType;
const int = (name: string, i: number): AttributeProto => ({ name, type: A.INT, i });
const float = (name: string, f: number): AttributeProto => ({ name, type: A.FLOAT, f });
const ints = (name: string, v: readonly number[]): AttributeProto => ({ name, type: A.INTS, ints: [...v] });

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
  const initializer = (base: string, w: Weight): string => {
    const name = uniqueName(base);
    initializers.push(floatTensor(name, w.shape, expandWeight(w)));
    return name;
  };
  const floats = (base: string, data: Float32Array): string => {
    const name = uniqueName(base);
    initializers.push(floatTensor(name, [data.length], data));
    return name;
  };

  model.nodes.forEach((node: Node, i: number) => {
    const name = unique(nodeNames, node.name || `${node.op.type}_${i}`);
    const [opType, extraInputs, attribute] = translate(node.op, name, initializer, floats, (v) => {
      const n = uniqueName(`${name}.shape`);
      initializers.push(int64Tensor(n, v));
      return n;
    });
    nodes.push({ name, opType, domain: '', input: [...node.inputs, ...extraInputs], output: [...node.outputs], attribute });
  });

  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'hnet',
    producerVersion: CONVERT_VERSION,
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
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

type Translation = [opType: string, extraInputs: string[], attributes: AttributeProto[]];

function translate(
  op: Op,
  name: string,
  weight: (base: string, w: Weight) => string,
  floats: (base: string, data: Float32Array) => string,
  shape: (v: number[]) => string,
): Translation {
  switch (op.type) {
    default:
      return pending11(name, op.type); // PENDING-1.1
    case 'Dense': // y = x · Wᵀ + b  ==  Gemm(x, W, b, transB=1)
      return ['Gemm', [weight(`${name}.weight`, op.weight), ...(op.bias ? [weight(`${name}.bias`, op.bias)] : [])], [int('transB', 1)]];
    case 'Conv2D':
      return ['Conv', [weight(`${name}.weight`, op.weight), ...(op.bias ? [weight(`${name}.bias`, op.bias)] : [])], [
        ints('kernel_shape', op.weight.shape.slice(2)), ints('strides', op.strides), ints('pads', op.pads),
        ints('dilations', op.dilations), int('group', op.group),
      ]];
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
    case 'GlobalAveragePool':
    case 'Add':
      return [op.type, [], []];
    case 'LeakyRelu':
      return ['LeakyRelu', [], [float('alpha', op.alpha)]];
    case 'Softmax':
    case 'LogSoftmax':
      return [op.type, [], [int('axis', op.axis)]];
    case 'Flatten':
      return ['Flatten', [], [int('axis', op.axis)]];
    case 'Reshape':
      return ['Reshape', [shape(op.shape)], []];
    case 'MaxPool':
      return ['MaxPool', [], [
        ints('kernel_shape', op.kernel), ints('strides', op.strides), ints('pads', op.pads),
        ints('dilations', op.dilations), int('ceil_mode', op.ceilMode ? 1 : 0),
      ]];
    case 'AveragePool':
      return ['AveragePool', [], [
        ints('kernel_shape', op.kernel), ints('strides', op.strides), ints('pads', op.pads),
        int('ceil_mode', op.ceilMode ? 1 : 0), int('count_include_pad', op.countIncludePad ? 1 : 0),
      ]];
    case 'BatchNorm':
      return ['BatchNormalization', [
        floats(`${name}.scale`, op.scale), floats(`${name}.bias`, op.bias),
        floats(`${name}.mean`, op.mean), floats(`${name}.var`, op.variance),
      ], [float('epsilon', op.epsilon)]];
  }
}
