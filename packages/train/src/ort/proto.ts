// The protobuf wire encoding of the part of onnx.proto the graph builder
// emits (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto), written here instead of through onnx-proto so that the
// compiler loads in a browser as a plain ES module: onnx-proto and protobufjs
// are CommonJS. test/ort-proto.test.ts decodes these bytes with onnx-proto.
//
// A message is a list of chunks and their total length, so a nested message
// (an initializer's raw data inside a graph inside a model) is copied once,
// by concat() at the end.

/** Field numbers from onnx.proto (onnx 1.10, ir_version 8). */
const F = {
  model: { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5 },
  attribute: { name: 1, f: 2, i: 3, s: 4, ints: 8, type: 20 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1, type: 2 },
  type: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { dimValue: 1 },
} as const;

/** AttributeProto.AttributeType */
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

const VARINT = 0;
const FIXED32 = 5;
const LENGTH = 2;

export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
}
export interface NodeMessage {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  attribute: AttributeMessage[];
}
export interface TensorMessage {
  name: string;
  dataType: number;
  dims: number[];
  rawData: Uint8Array;
}
export interface ValueInfoMessage {
  name: string;
  elemType: number;
  dims: number[];
}
export interface ModelMessage {
  irVersion: number;
  producerName: string;
  opset: { domain: string; version: number };
  graph: { name: string; node: NodeMessage[]; initializer: TensorMessage[]; input: ValueInfoMessage[]; output: ValueInfoMessage[] };
}

class Message {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  private bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private flush(): void {
    if (this.scratch.length === 0) return;
    this.bytes(Uint8Array.from(this.scratch));
    this.scratch = [];
  }

  /** A varint; negative numbers as 64-bit two's complement (int64 fields), ten bytes. */
  private varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`protobuf: ${value} is not an integer`);
    if (value >= 0 && value < 2 ** 31) {
      for (; value >= 0x80; value >>>= 7) this.scratch.push((value & 0x7f) | 0x80);
      this.scratch.push(value);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    for (; v >= 0x80n; v >>= 7n) this.scratch.push(Number(v & 0x7fn) | 0x80);
    this.scratch.push(Number(v));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    this.key(field, VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  raw(field: number, b: Uint8Array): this {
    this.key(field, LENGTH);
    this.varint(b.length);
    this.flush();
    this.bytes(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Message): this {
    m.flush();
    this.key(field, LENGTH);
    this.varint(m.length);
    this.flush();
    for (const c of m.chunks) this.bytes(c);
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function attribute(a: AttributeMessage): Message {
  const m = new Message().string(F.attribute.name, a.name).int(F.attribute.type, a.type);
  if (a.f !== undefined) m.float(F.attribute.f, a.f);
  if (a.i !== undefined) m.int(F.attribute.i, a.i);
  if (a.s !== undefined) m.raw(F.attribute.s, a.s);
  for (const v of a.ints ?? []) m.int(F.attribute.ints, v); // proto2 repeated int64: unpacked
  return m;
}

function node(n: NodeMessage): Message {
  const m = new Message();
  for (const i of n.input) m.string(F.node.input, i);
  for (const o of n.output) m.string(F.node.output, o);
  m.string(F.node.name, n.name).string(F.node.opType, n.opType);
  for (const a of n.attribute) m.message(F.node.attribute, attribute(a));
  return m;
}

function tensor(t: TensorMessage): Message {
  const m = new Message();
  for (const d of t.dims) m.int(F.tensor.dims, d);
  return m.int(F.tensor.dataType, t.dataType).string(F.tensor.name, t.name).raw(F.tensor.rawData, t.rawData);
}

function valueInfo(v: ValueInfoMessage): Message {
  const shape = new Message();
  for (const d of v.dims) shape.message(F.shape.dim, new Message().int(F.dim.dimValue, d));
  const tensorType = new Message().int(F.tensorType.elemType, v.elemType).message(F.tensorType.shape, shape);
  return new Message().string(F.valueInfo.name, v.name).message(F.valueInfo.type, new Message().message(F.type.tensorType, tensorType));
}

/** The serialized ModelProto. */
export function encodeModel(model: ModelMessage): Uint8Array {
  const g = model.graph;
  const graph = new Message();
  for (const n of g.node) graph.message(F.graph.node, node(n));
  graph.string(F.graph.name, g.name);
  for (const t of g.initializer) graph.message(F.graph.initializer, tensor(t));
  for (const v of g.input) graph.message(F.graph.input, valueInfo(v));
  for (const v of g.output) graph.message(F.graph.output, valueInfo(v));
  const opset = new Message().string(F.opset.domain, model.opset.domain).int(F.opset.version, model.opset.version);
  return new Message()
    .int(F.model.irVersion, model.irVersion)
    .string(F.model.producerName, model.producerName)
    .message(F.model.graph, graph)
    .message(F.model.opsetImport, opset)
    .finish();
}
