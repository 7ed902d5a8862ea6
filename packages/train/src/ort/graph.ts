// A small builder for ONNX graphs: nodes, constants and typed inputs/outputs,
// emitted as a ModelProto (proto.ts) that onnxruntime loads. Every tensor
// gets a fresh name from a hint, so op builders never collide.

import { ATTRIBUTE_TYPE, encodeModel, type AttributeMessage, type NodeMessage, type TensorMessage, type ValueInfoMessage } from './proto.js';

/** The opset the training graphs use: ScatterElements reduction (16) and Reduce* axes as inputs (18). */
export const OPSET = 18;

export type ElementType = 'float32' | 'int32' | 'int64';
const DATA_TYPE: Record<ElementType, number> = { float32: 1, int32: 6, int64: 7 };

/** An attribute value: a number is an int, a number[] ints; float() marks a float. */
export type Attribute = number | number[] | string | { float: number };
export const float = (value: number): { float: number } => ({ float: value });

export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>(); // small constants, shared by value
  private readonly producer = new Map<string, NodeMessage>();
  private readonly renamed = new Map<string, string>(); // tensor → the graph-output name it now has

  /** A name not used yet, derived from the hint. */
  fresh(hint: string): string {
    let name = hint;
    for (let k = 1; this.taken.has(name); k++) name = `${hint}_${k}`;
    this.taken.add(name);
    return name;
  }

  input(name: string, type: ElementType, dims: readonly number[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Declares an existing tensor as a graph output under `name`. The node that
   * made it is renamed (later uses follow), so no Identity copies a parameter
   * per step; an Identity only where the tensor is an input or already an output.
   */
  output(tensor: string, name: string, type: ElementType, dims: readonly number[]): void {
    const source = this.resolve(tensor);
    const node = this.producer.get(source);
    if (source !== name) {
      this.claim(name);
      if (node && !this.renamed.has(tensor)) {
        node.output = node.output.map((o) => (o === source ? name : o));
        for (const n of this.nodes) n.input = n.input.map((i) => (i === source ? name : i));
        this.producer.set(name, node);
        this.renamed.set(tensor, name);
      } else {
        this.nodes.push({ opType: 'Identity', input: [source], output: [name], name, attribute: [] });
      }
    }
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** One node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, hint: string = opType): string {
    return this.opN(opType, inputs, 1, attributes, hint)[0];
  }

  /** One node with `count` outputs. */
  opN(opType: string, inputs: readonly string[], count: number, attributes: Record<string, Attribute> = {}, hint: string = opType): string[] {
    const outputs = Array.from({ length: count }, (_, k) => this.fresh(count === 1 ? hint : `${hint}.${k}`));
    const node: NodeMessage = {
      opType,
      input: inputs.map((t) => this.resolve(t)),
      output: outputs,
      name: outputs[0],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    };
    this.nodes.push(node);
    for (const o of outputs) this.producer.set(o, node);
    return outputs;
  }

  /** A constant tensor (initializer). */
  constant(hint: string, type: ElementType, dims: readonly number[], values: Float32Array | Int32Array | BigInt64Array): string {
    const name = this.fresh(hint);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push({ name, dataType: DATA_TYPE[type], dims: [...dims], rawData: bytes });
    return name;
  }

  /** A float scalar constant, shared between all uses of the same value. */
  scalar(value: number): string {
    return this.shared(`f:${value}`, () => this.constant('c', 'float32', [], Float32Array.of(value)));
  }

  /** An int64 vector constant (shapes, axes), shared by value. */
  ints(values: readonly number[]): string {
    return this.shared(`i:${values.join(',')}`, () => this.constant('shape', 'int64', [values.length], BigInt64Array.from(values.map(BigInt))));
  }

  toBytes(): Uint8Array {
    return encodeModel({
      irVersion: 8,
      producerName: 'hnet-train',
      opset: { domain: '', version: OPSET },
      graph: { name: 'hnet', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
  }

  private resolve(tensor: string): string {
    return this.renamed.get(tensor) ?? tensor;
  }

  private shared(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (!name) this.constants.set(key, (name = make()));
    return name;
  }

  private claim(name: string): void {
    if (this.taken.has(name)) throw new Error(`graph builder: tensor name '${name}' is used twice`);
    this.taken.add(name);
  }
}

function valueInfo(name: string, type: ElementType, dims: readonly number[]): ValueInfoMessage {
  return { name, elemType: DATA_TYPE[type], dims: [...dims] };
}

function attribute(name: string, value: Attribute): AttributeMessage {
  const T = ATTRIBUTE_TYPE;
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.FLOAT, f: value.float };
}
