// ONNX → hnet model (plain weights, no hashing).
//
// The path through this file, in order:
//   1. decode the ModelProto, find the default-domain opset;
//   2. collect constants: initializers and Constant nodes;
//   3. pass-through nodes (Identity, inference Dropout, zero or foldable Pad)
//      become aliases: their output is another name for their input;
//   4. convert every remaining node, in the file's (topological) order, into
//      hnet nodes, folding BatchNormalization and constant bias Adds into the
//      Dense/Conv2D before them when that layer feeds nothing else; shape
//      arithmetic (Shape → Gather → Concat...) is computed, not converted, and
//      a Transpose before a flatten into a Dense moves that Dense's columns;
//   5. if any node could not be converted, throw ONE ConvertError listing all
//      of them; otherwise name the graph outputs, validate, and return.
//
// Shapes are tracked while converting (inferOpShape from @hnet/format), since
// some ONNX ops only map to hnet once the input rank is known.

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  HnetFormatError, inferOpShape, plainWeight, validateModel, BATCH,
  METADATA_KEYS, type Model, type Node, type Op, type Pads4, type Pair, type TensorInfo,
} from '@hnet/format';
import { ConvertError, unsupportedNodes, type NodeIssue } from '../errors.js';
import { whatToDo } from '../hints.js';
import { CONVERT_VERSION } from '../version.js';
import { DataType, dataTypeName, onnx, toNumber, toSafeInteger, type AttributeProto, type ModelProto, type NodeProto, type ValueInfoProto } from './proto.js';
import { readTensor, type ConstTensor } from './tensors.js';

/**
 * The oldest default-domain opset the importer reads. Older opsets differ in
 * attributes (consumed_inputs, is_test, spatial, broadcast...), which are
 * either understood below or refused by the attribute check.
 */
export const MIN_OPSET = 1;

export interface ImportOptions {
  /** Folder that external-data paths are relative to (default: the model file's folder). */
  baseDir?: string;
  /** Name used in messages (default: the path, or "model.onnx"). */
  source?: string;
}

export interface ImportReport {
  source: string;
  producer: string;
  opset: number;
  onnxNodes: number;
  hnetNodes: number;
  /** "BN into Conv" style notes: what was folded, fused or dropped. */
  folded: string[];
}

export interface ImportResult {
  model: Model;
  report: ImportReport;
}

/** Imports an ONNX model from a file path or its bytes. */
export function importOnnx(input: Uint8Array | string, options: ImportOptions = {}): ImportResult {
  let bytes: Uint8Array;
  let baseDir: string | null = options.baseDir ?? null;
  let source = options.source ?? 'model.onnx';
  if (typeof input === 'string') {
    source = options.source ?? input;
    baseDir = options.baseDir ?? path.dirname(path.resolve(input));
    try {
      bytes = readFileSync(input);
    } catch (e) {
      throw new ConvertError('file', `${input}: cannot read the model (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
  } else {
    bytes = input;
  }
  let proto: ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ConvertError('bad-model', `${source}: not an ONNX model (protobuf decode failed: ${(e as Error).message})`);
  }
  if (!proto.graph) throw new ConvertError('bad-model', `${source}: the ONNX model has no graph`);
  const result = new Importer(proto, source, baseDir).run();
  // Which dense model a .hnet came from, whatever it is called later.
  result.model.metadata[METADATA_KEYS.sourceSha256] = createHash('sha256').update(bytes).digest('hex');
  return result;
}

const AttributeType = onnx.AttributeProto.AttributeType;
const attributeTypeName = (t: number): string => (AttributeType as unknown as Record<number, string>)[t] ?? `type ${t}`;

/**
 * The one way to read an attribute: of the expected type, or refused. A
 * wrong type must not read as 0 (Gemm transB=1.0 as FLOAT would silently
 * become transB = 0); onnx.checker refuses these models too.
 */
function typedAttribute(a: AttributeProto, expected: number): AttributeProto {
  const found = a.type ?? AttributeType.UNDEFINED;
  if (found !== expected) refuse(`attribute ${a.name} must be ${attributeTypeName(expected)}, found ${attributeTypeName(found)}`);
  return a;
}

/** An int64 attribute value as a number, refused beyond ±2^53 rather than rounded. */
function exactInteger(v: Parameters<typeof toSafeInteger>[0], a: AttributeProto): number {
  return toSafeInteger(v) ?? refuse(`attribute ${a.name}: int64 value ${String(v)} is beyond ±2^53, which hnet cannot hold exactly`);
}

/** Attribute readers with ONNX defaults, each checking the attribute's type. */
class Attrs {
  private readonly byName: Map<string, AttributeProto>;
  constructor(node: NodeProto) {
    this.byName = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }
  private get(name: string, type: number): AttributeProto | undefined {
    const a = this.byName.get(name);
    return a && typedAttribute(a, type);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  int(name: string, fallback: number): number {
    const a = this.get(name, AttributeType.INT);
    return a ? exactInteger(a.i, a) : fallback;
  }
  float(name: string, fallback: number): number {
    const a = this.get(name, AttributeType.FLOAT);
    return a ? (a.f ?? 0) : fallback;
  }
  ints(name: string): number[] | null {
    const a = this.get(name, AttributeType.INTS);
    return a ? (a.ints ?? []).map((v) => exactInteger(v, a)) : null;
  }
  string(name: string, fallback: string): string {
    const a = this.get(name, AttributeType.STRING);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }
  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** Thrown inside a converter to refuse one node; collected into the final error. */
class Refusal extends Error {}
const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

/** A node skipped because an input came from a refused node (already listed). */
class Upstream extends Error {}

/** Supported ops and the attributes the importer understands; any other attribute is refused. */
const ATTRIBUTES: Record<string, string[]> = {
  Gemm: ['alpha', 'beta', 'transA', 'transB', 'broadcast'],
  MatMul: [],
  Conv: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'],
  Relu: ['consumed_inputs'],
  LeakyRelu: ['alpha', 'consumed_inputs'],
  Sigmoid: ['consumed_inputs'],
  Tanh: ['consumed_inputs'],
  Softmax: ['axis'],
  LogSoftmax: ['axis'],
  Flatten: ['axis'],
  Reshape: ['shape', 'allowzero', 'consumed_inputs'],
  MaxPool: ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides'], // storage_order: Indices only
  AveragePool: ['auto_pad', 'ceil_mode', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'strides'],
  GlobalAveragePool: [],
  BatchNormalization: ['epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs'],
  Dropout: ['ratio', 'seed', 'is_test'],
  Identity: [],
  Add: ['broadcast', 'consumed_inputs'], // legacy `axis` broadcasting is refused
  Pad: ['mode', 'pads', 'value'],
  Constant: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'],
  // Shape arithmetic, folded at import time (PyTorch's x.view(x.size(0), -1)):
  Shape: ['start', 'end'],
  Gather: ['axis'],
  Unsqueeze: ['axes'],
  Squeeze: ['axes'],
  Concat: ['axis'],
  Cast: ['to', 'saturate'],
  Slice: ['starts', 'ends', 'axes'],
  // Only folded into a following flatten → MatMul/Gemm (tf2onnx's NHWC flatten):
  Transpose: ['perm'],
};

/** An integer tensor known at import time; 'N' is the symbolic batch size. */
interface ShapeValue {
  dims: number[];
  values: (number | 'N')[];
}

/** Refuses ops outside the default domain, unknown ops and unknown attributes. */
function checkOp(node: NodeProto): void {
  if (node.domain && node.domain !== 'ai.onnx') refuse(`op from domain "${node.domain}" is not supported`);
  const known = ATTRIBUTES[node.opType ?? ''] ?? refuse('op not supported');
  const unknown = (node.attribute ?? []).map((a) => a.name ?? '').filter((n) => !known.includes(n));
  if (unknown.length) refuse(`attribute${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not supported`);
}

class Importer {
  private readonly graph;
  private readonly opset: number;
  private readonly consts = new Map<string, ConstTensor>();
  /** Pass-through outputs: ONNX name → the name it stands for. */
  private readonly alias = new Map<string, string>();
  /** Zero-padding folded into the Conv/AveragePool that reads the Pad's output. */
  private readonly padFold = new Map<string, Pads4>();
  private readonly handled = new Set<number>(); // node indices done in the alias pass
  private readonly consumers = new Map<string, NodeProto[]>(); // ONNX name → the nodes that read it
  private readonly issues: NodeIssue[] = [];
  private readonly nodes: Node[] = [];
  private readonly producer = new Map<string, Node>();
  private readonly shapes = new Map<string, number[]>();
  private readonly failed = new Set<string>(); // outputs of refused nodes
  private readonly uses = new Map<string, number>(); // canonical name → consumers (graph outputs count)
  private readonly graphOutputs: string[];
  private readonly inputs: TensorInfo[] = [];
  private readonly folded: string[] = [];
  /** Results of folded shape arithmetic that involve the batch size (the rest go to consts). */
  private readonly shapeValues = new Map<string, ShapeValue>();
  /** Transpose outputs waiting to be flattened: never materialized. */
  private readonly transposed = new Map<string, { source: string; perm: number[]; shape: number[] }>();
  /** Flattened transposes: for each column of the flattened transposed tensor, its column in the flattened source. */
  private readonly flatPerm = new Map<string, Int32Array>();

  constructor(
    private readonly proto: ModelProto,
    private readonly source: string,
    private readonly baseDir: string | null,
  ) {
    this.graph = proto.graph!;
    const opsets = (proto.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
    this.opset = opsets.length ? toNumber(opsets[0].version) : 1;
    this.graphOutputs = (this.graph.output ?? []).map((o) => o.name ?? '');
  }

  run(): ImportResult {
    if (this.opset < MIN_OPSET) {
      throw new ConvertError('bad-model', `${this.source}: opset ${this.opset} is older than ${MIN_OPSET}, the oldest hnet imports; re-export the model with a newer opset`);
    }
    const nodes = this.graph.node ?? [];
    this.collectConstants(nodes);
    this.collectInputs();
    this.collectAliases(nodes);
    this.countUses(nodes);
    for (const name of this.graphOutputs) {
      if (this.consts.has(this.resolve(name))) {
        this.issues.push({ node: `output "${name}"`, opType: 'graph output', reason: 'the output is a constant; hnet graph outputs must be computed' });
      }
    }
    nodes.forEach((node, i) => {
      if (this.handled.has(i)) return;
      try {
        this.convert(node, i);
      } catch (e) {
        if (e instanceof Upstream) {
          for (const o of node.output ?? []) this.failed.add(o);
          return;
        }
        if (!(e instanceof Refusal || e instanceof HnetFormatError)) throw e;
        this.issues.push({ node: nodeName(node, i), opType: node.opType ?? '', reason: e.message });
        for (const o of node.output ?? []) this.failed.add(o);
      }
    });
    const outputs = this.issues.length ? [] : this.nameOutputs();
    if (this.issues.length) throw unsupportedNodes(this.source, this.issues, whatToDo(this.issues.map((i) => i.opType)));

    const model: Model = {
      inputs: this.inputs,
      outputs,
      nodes: this.nodes,
      metadata: {
        [METADATA_KEYS.source]: path.basename(this.source),
        [METADATA_KEYS.producer]: [this.proto.producerName, this.proto.producerVersion].filter(Boolean).join(' '),
        [METADATA_KEYS.sourceOpset]: String(this.opset),
        [METADATA_KEYS.converter]: `hnet convert (@hnet/convert ${CONVERT_VERSION})`,
      },
    };
    try {
      validateModel(model);
    } catch (e) {
      if (e instanceof HnetFormatError) throw new ConvertError('bad-model', `${this.source}: the converted model is invalid: ${e.message}`);
      throw e;
    }
    return {
      model,
      report: {
        source: this.source,
        producer: model.metadata.producer,
        opset: this.opset,
        onnxNodes: nodes.length,
        hnetNodes: this.nodes.length,
        folded: this.folded,
      },
    };
  }

  // ---- 2. constants and graph inputs ----------------------------------------

  private collectConstants(nodes: NodeProto[]): void {
    for (const t of this.graph.initializer ?? []) {
      this.consts.set(t.name ?? '', readTensor(t, this.baseDir, `${this.source}: initializer "${t.name}"`));
    }
    nodes.forEach((node, i) => {
      if (node.opType !== 'Constant' || (node.domain && node.domain !== 'ai.onnx')) return;
      this.handled.add(i);
      const out = node.output?.[0] ?? '';
      const attr = node.attribute?.[0];
      const what = `${this.source}: Constant node ${nodeName(node, i)}`;
      const scalar = (values: number[], dataType: number, dims: number[]): ConstTensor =>
        ({ name: out, dims, dataType, values: Float64Array.from(values) });
      const typed = (type: number): AttributeProto => typedAttribute(attr!, type);
      try {
        switch (attr?.name) {
          case 'value': this.consts.set(out, { ...readTensor(typed(AttributeType.TENSOR).t ?? {}, this.baseDir, what), name: out }); break;
          case 'value_float': this.consts.set(out, scalar([typed(AttributeType.FLOAT).f ?? 0], DataType.FLOAT, [])); break;
          case 'value_floats': this.consts.set(out, scalar(typed(AttributeType.FLOATS).floats ?? [], DataType.FLOAT, [attr.floats?.length ?? 0])); break;
          case 'value_int': this.consts.set(out, scalar([exactInteger(typed(AttributeType.INT).i, attr!)], DataType.INT64, [])); break;
          case 'value_ints': this.consts.set(out, scalar((typed(AttributeType.INTS).ints ?? []).map((v) => exactInteger(v, attr!)), DataType.INT64, [attr.ints?.length ?? 0])); break;
          default: refuse(`attribute "${attr?.name}" is not supported`);
        }
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        this.issues.push({ node: nodeName(node, i), opType: 'Constant', reason: e.message });
        this.failed.add(out);
      }
    });
  }

  private collectInputs(): void {
    for (const v of this.graph.input ?? []) {
      const name = v.name ?? '';
      if (this.consts.has(name)) continue; // IR < 4: initializers are listed as inputs too
      try {
        this.inputs.push({ name, shape: inputShape(v) });
        this.shapes.set(name, this.inputs[this.inputs.length - 1].shape);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        this.issues.push({ node: `input "${name}"`, opType: 'graph input', reason: e.message });
        this.failed.add(name);
      }
    }
  }

  // ---- 3. pass-through nodes --------------------------------------------------

  /** Follows aliases to the computed tensor; the path is shortened as it goes, so a chain of 60k Dropouts stays linear. */
  private resolve(name: string): string {
    let n = name;
    while (this.alias.has(n)) n = this.alias.get(n)!;
    for (let m = name; m !== n;) {
      const next = this.alias.get(m)!;
      this.alias.set(m, n);
      m = next;
    }
    return n;
  }

  private isUsed(name: string): boolean {
    return this.graphOutputs.includes(name) || this.consumers.has(name);
  }

  private collectAliases(nodes: NodeProto[]): void {
    // Who reads each tensor (ONNX names), built once: a scan per node was quadratic.
    for (const node of nodes) {
      for (const name of new Set(node.input ?? [])) {
        if (!name) continue;
        const list = this.consumers.get(name);
        if (list) list.push(node);
        else this.consumers.set(name, [node]);
      }
    }
    nodes.forEach((node, i) => {
      const op = node.opType ?? '';
      if (!['Identity', 'Dropout', 'Pad'].includes(op) || (node.domain && node.domain !== 'ai.onnx')) return;
      this.handled.add(i);
      try {
        checkOp(node);
        if (op === 'Dropout') this.checkDropout(node);
        if (op === 'Pad') this.checkPad(node);
        this.alias.set(node.output?.[0] ?? '', node.input?.[0] ?? '');
        const name = nodeName(node, i);
        if (op === 'Dropout') this.folded.push(`Dropout ${name} removed (the identity at inference)`);
        if (op === 'Pad') {
          this.folded.push(this.padFold.has(node.output?.[0] ?? '') ? `Pad ${name} folded into the pads of the next layer` : `Pad ${name} removed (pads nothing)`);
        }
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        this.issues.push({ node: nodeName(node, i), opType: op, reason: e.message });
        for (const o of node.output ?? []) this.failed.add(o);
      }
    });
  }

  private checkDropout(node: NodeProto): void {
    const mask = node.output?.[1];
    if (mask && this.isUsed(mask)) refuse('the mask output is used; hnet only runs Dropout as the inference identity');
    const training = node.input?.[2];
    if (training) {
      const t = this.consts.get(training);
      if (!t) refuse('training_mode must be a constant');
      if (t!.values[0]) refuse('training_mode is true; only inference Dropout (the identity) is supported');
    }
  }

  /** A Pad that pads nothing is dropped; zero-padding of H and W that feeds one Conv/AveragePool is folded into it. */
  private checkPad(node: NodeProto): void {
    const a = new Attrs(node);
    const mode = a.string('mode', 'constant');
    let pads: number[];
    let value = 0;
    if (this.opset < 11) {
      pads = a.ints('pads') ?? refuse('missing attribute "pads"');
      value = a.float('value', 0);
    } else {
      const p = this.consts.get(node.input?.[1] ?? '') ?? refuse('the pads input must be a constant');
      pads = [...p.values];
      if (node.input?.[2]) value = (this.consts.get(node.input[2]) ?? refuse('constant_value must be a constant')).values[0] ?? 0;
      if (node.input?.[3]) refuse('the axes input (opset 18) is not supported');
    }
    if (pads.every((p) => p === 0)) return;
    if (mode !== 'constant' || value !== 0) refuse(`only zero padding can be folded (mode "${mode}", value ${value})`);
    const out = node.output?.[0] ?? '';
    const consumers = this.consumers.get(out) ?? [];
    const foldable = pads.length === 8 && pads[0] === 0 && pads[1] === 0 && pads[4] === 0 && pads[5] === 0 &&
      pads.every((p) => p >= 0) && consumers.length === 1 && !this.graphOutputs.includes(out) &&
      ['Conv', 'AveragePool'].includes(consumers[0].opType ?? '') && consumers[0].input?.[0] === out;
    if (!foldable) {
      refuse(`pads [${pads.join(', ')}] can only be folded when they pad H and W of a 4-D tensor that feeds a single Conv or AveragePool`);
    }
    this.padFold.set(out, [pads[2], pads[3], pads[6], pads[7]]);
  }

  private countUses(nodes: NodeProto[]): void {
    const add = (name: string): void => {
      const c = this.resolve(name);
      this.uses.set(c, (this.uses.get(c) ?? 0) + 1);
    };
    nodes.forEach((node, i) => {
      if (!this.handled.has(i)) for (const name of node.input ?? []) if (name) add(name);
    });
    for (const name of this.graphOutputs) add(name);
  }

  // ---- 4. conversion ------------------------------------------------------------

  /** Canonical name of a data input, which must be a computed tensor (not a constant). */
  private data(node: NodeProto, index: number, permutedColumnsOk = false): string {
    const raw = node.input?.[index] ?? '';
    if (!raw) refuse(`input ${index} is missing`);
    const name = this.resolve(raw);
    if (this.failed.has(name) || this.failed.has(raw)) throw new Upstream();
    if (this.transposed.has(name) || (this.flatPerm.has(name) && !permutedColumnsOk)) {
      refuse(`input ${index} ("${raw}") comes from a Transpose; hnet only folds a Transpose into a Flatten/Reshape to [N, features] that feeds a MatMul/Gemm`);
    }
    if (this.consts.has(name)) refuse(`input ${index} ("${raw}") is a constant; hnet expects a computed tensor here`);
    if (!this.shapes.has(name)) refuse(`input ${index} ("${raw}") is not produced by any node or graph input`);
    return name;
  }

  private constant(node: NodeProto, index: number, what: string): ConstTensor {
    const raw = node.input?.[index] ?? '';
    if (!raw) refuse(`${what} (input ${index}) is missing`);
    const name = this.resolve(raw);
    if (this.failed.has(name)) throw new Upstream();
    return this.consts.get(name) ?? refuse(`${what} ("${raw}") must be a constant (an initializer or Constant node)`);
  }

  private optionalConstant(node: NodeProto, index: number, what: string): ConstTensor | null {
    return node.input?.[index] ? this.constant(node, index, what) : null;
  }

  private shape(name: string): number[] {
    return this.shapes.get(name) ?? refuse(`shape of "${name}" is unknown`);
  }

  private emit(label: string, op: Op, inputs: string[], output: string): Node {
    const node: Node = { name: label, op, inputs, outputs: [output] };
    this.shapes.set(output, inferOpShape(`node ${label}`, op, inputs.map((i) => this.shape(i))));
    this.nodes.push(node);
    this.producer.set(output, node);
    return node;
  }

  /** The Dense/Conv2D that produces `name`, when nothing else reads `name` (so it may be changed in place). */
  private soleLayer(name: string): (Node & { op: { type: 'Dense' | 'Conv2D' } }) | null {
    const p = this.producer.get(name);
    if (!p || (p.op.type !== 'Dense' && p.op.type !== 'Conv2D')) return null;
    if ((this.uses.get(name) ?? 0) !== 1) return null;
    return p as Node & { op: { type: 'Dense' | 'Conv2D' } };
  }

  /** Gives a fused layer the output name of the node folded into it. */
  private renameOutput(layer: Node, output: string): void {
    const old = layer.outputs[0];
    layer.outputs[0] = output;
    this.shapes.set(output, this.shapes.get(old)!);
    this.shapes.delete(old);
    this.producer.delete(old);
    this.producer.set(output, layer);
  }

  private convert(node: NodeProto, index: number): void {
    const op = node.opType ?? '';
    checkOp(node);
    const label = nodeName(node, index);
    const out = node.output?.[0] ?? refuse('no output');
    const a = new Attrs(node);
    const unary = (o: Op): void => void this.emit(label, o, [this.data(node, 0)], out);
    switch (op) {
      case 'Gemm': return this.gemm(node, a, label, out);
      case 'MatMul': return this.matmul(node, label, out);
      case 'Conv': return this.conv(node, a, label, out);
      case 'Relu': return unary({ type: 'Relu' });
      case 'LeakyRelu': return unary({ type: 'LeakyRelu', alpha: a.float('alpha', 0.01) });
      case 'Sigmoid': return unary({ type: 'Sigmoid' });
      case 'Tanh': return unary({ type: 'Tanh' });
      case 'Softmax':
      case 'LogSoftmax': return this.softmax(node, a, op, label, out);
      case 'Flatten': {
        const t = this.transposed.get(this.resolve(node.input?.[0] ?? ''));
        if (t) return this.flattenTransposed(t, a.int('axis', 1) === 1 || a.int('axis', 1) === 1 - t.shape.length, label, out);
        const x = this.data(node, 0);
        let axis = a.int('axis', 1);
        if (axis < 0) axis += this.shape(x).length;
        return void this.emit(label, { type: 'Flatten', axis }, [x], out);
      }
      case 'Reshape': return this.reshape(node, a, label, out);
      case 'Shape': case 'Gather': case 'Unsqueeze': case 'Squeeze': case 'Concat': case 'Cast': case 'Slice':
        return this.foldShapeOp(node, a, op, out);
      case 'Transpose': {
        const x = this.data(node, 0);
        const shape = this.shape(x);
        const perm = a.ints('perm') ?? shape.map((_, i) => shape.length - 1 - i);
        if (perm.length !== shape.length || perm[0] !== 0) refuse(`perm [${perm}] moves the batch axis; only a Transpose of the features before a flatten into a MatMul/Gemm is supported`);
        this.transposed.set(out, { source: x, perm, shape: perm.map((i) => shape[i]) });
        return;
      }
      case 'MaxPool':
      case 'AveragePool': return this.pool(node, a, op, label, out);
      case 'GlobalAveragePool': {
        const x = this.data(node, 0);
        if (this.shape(x).length !== 4) refuse(`only 4-D inputs [N, C, H, W] are supported, got rank ${this.shape(x).length}`);
        return unary({ type: 'GlobalAveragePool' });
      }
      case 'BatchNormalization': return this.batchNorm(node, a, label, out);
      case 'Add': return this.add(node, label, out);
      default: refuse('op not supported');
    }
  }

  private gemm(node: NodeProto, a: Attrs, label: string, out: string): void {
    if (a.int('transA', 0)) refuse('transA=1 is not supported (hnet has no transpose of the input); export with the input as [N, in]');
    const x = this.data(node, 0, true);
    const b = this.constant(node, 1, 'weight B');
    if (b.dims.length !== 2) refuse(`weight B must be 2-D, got [${b.dims.join(', ')}]`);
    const transB = a.int('transB', 0) !== 0;
    const alpha = a.float('alpha', 1);
    const beta = a.float('beta', 1);
    // Dense stores [out, in]: B as-is when transB, else transposed; alpha folded in.
    const [outF, inF] = transB ? b.dims : [b.dims[1], b.dims[0]];
    const w = new Float32Array(outF * inF);
    for (let o = 0; o < outF; o++) {
      for (let i = 0; i < inF; i++) w[o * inF + i] = alpha * b.values[transB ? o * inF + i : i * outF + o];
    }
    const c = this.optionalConstant(node, 2, 'bias C');
    const bias = c && beta !== 0 ? plainWeight(vectorBias(c, outF, beta, 'bias C'), [outF]) : null;
    this.emit(label, { type: 'Dense', weight: plainWeight(this.unpermuteColumns(x, w, outF, inF), [outF, inF]), bias }, [x], out);
  }

  private matmul(node: NodeProto, label: string, out: string): void {
    const x = this.data(node, 0, true);
    const b = this.constant(node, 1, 'the second input');
    if (b.dims.length !== 2) refuse(`only a 2-D constant second input maps to Dense, got [${b.dims.join(', ')}]`);
    const rank = this.shape(x).length;
    if (rank !== 2) refuse(`the first input has rank ${rank}; Dense takes [N, in] (add a Flatten before it)`);
    const [inF, outF] = b.dims;
    const w = new Float32Array(outF * inF); // [out, in] = Bᵀ
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = b.values[i * outF + o];
    this.emit(label, { type: 'Dense', weight: plainWeight(this.unpermuteColumns(x, w, outF, inF), [outF, inF]), bias: null }, [x], out);
  }

  /**
   * A Dense that reads a flattened Transpose reads the untransposed flatten
   * instead, with its weight columns moved to match: W'[o, map[j]] = W[o, j].
   */
  private unpermuteColumns(x: string, w: Float32Array, outF: number, inF: number): Float32Array {
    const map = this.flatPerm.get(x);
    if (!map) return w;
    if (map.length !== inF) refuse(`the flattened input has ${map.length} features, the weight ${inF}`);
    const moved = new Float32Array(w.length);
    for (let o = 0; o < outF; o++) for (let j = 0; j < inF; j++) moved[o * inF + map[j]] = w[o * inF + j];
    return moved;
  }

  /**
   * Flatten (to [N, features]) of a Transpose that keeps the batch axis: emit
   * the flatten of the untransposed source and remember how columns moved, for
   * the MatMul/Gemm that must follow (tf2onnx flattens NHWC this way).
   */
  private flattenTransposed(t: { source: string; perm: number[]; shape: number[] }, toFeatures: boolean, label: string, out: string): void {
    if (!toFeatures) refuse('a Transpose can only be folded into a flatten to [N, features]');
    const src = this.shape(t.source);
    if (src.slice(1).some((d) => d === BATCH)) refuse(`the transposed tensor [${src}] needs known feature dims`);
    const strides = new Array<number>(src.length).fill(1); // row-major strides of the source's features
    for (let i = src.length - 2; i >= 1; i--) strides[i] = strides[i + 1] * src[i + 1];
    const dims = t.shape.slice(1);
    const map = new Int32Array(dims.reduce((p, q) => p * q, 1));
    for (let j = 0; j < map.length; j++) {
      let rest = j;
      let at = 0;
      for (let i = dims.length - 1; i >= 0; i--) {
        at += (rest % dims[i]) * strides[t.perm[i + 1]];
        rest = Math.floor(rest / dims[i]);
      }
      map[j] = at;
    }
    this.emit(label, { type: 'Flatten', axis: 1 }, [t.source], out);
    this.flatPerm.set(out, map);
    this.folded.push(`Transpose before ${label} folded into the columns of the layer after it`);
  }

  private conv(node: NodeProto, a: Attrs, label: string, out: string): void {
    const x = this.data(node, 0);
    const w = this.constant(node, 1, 'weight W');
    if (w.dims.length !== 4) refuse(`only 2-D convolution is supported (weight rank ${w.dims.length})`);
    const kernel: Pair = [w.dims[2], w.dims[3]];
    const ks = a.ints('kernel_shape');
    if (ks && (ks.length !== 2 || ks[0] !== kernel[0] || ks[1] !== kernel[1])) refuse(`kernel_shape [${ks}] does not match the weight [${w.dims}]`);
    const strides = pair(a.ints('strides'), 'strides');
    const dilations = pair(a.ints('dilations'), 'dilations');
    let pads = this.windowPads(a, x, kernel, strides, dilations);
    const fold = this.padFold.get(node.input?.[0] ?? '');
    if (fold) pads = pads.map((p, i) => p + fold[i]) as Pads4;
    const m = w.dims[0];
    const bias = this.optionalConstant(node, 2, 'bias B');
    if (bias && bias.values.length !== m) refuse(`bias has ${bias.values.length} values for ${m} output channels`);
    this.emit(label, {
      type: 'Conv2D',
      weight: plainWeight(Float32Array.from(w.values), w.dims),
      bias: bias ? plainWeight(Float32Array.from(bias.values), [m]) : null,
      strides, pads, dilations, group: a.int('group', 1),
    }, [x], out);
  }

  /** Explicit pads, or the ones auto_pad stands for (needs the input's H and W). */
  private windowPads(a: Attrs, x: string, kernel: Pair, strides: Pair, dilations: Pair): Pads4 {
    const autoPad = a.string('auto_pad', 'NOTSET');
    if (autoPad === 'NOTSET') {
      const p = a.ints('pads') ?? [0, 0, 0, 0];
      if (p.length !== 4) refuse(`pads [${p}] must have 4 entries for 2-D windows`);
      if (p.some((v) => v < 0)) refuse(`negative pads [${p}] are not supported`);
      return p as Pads4;
    }
    if (autoPad === 'VALID') return [0, 0, 0, 0];
    if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') refuse(`auto_pad "${autoPad}" is not supported`);
    const shape = this.shape(x);
    const pads: number[] = [0, 0, 0, 0];
    for (let i = 0; i < 2; i++) {
      const size = shape[2 + i];
      if (size === undefined || size === BATCH) refuse(`auto_pad ${autoPad} needs a known input size, got [${shape}]`);
      const total = Math.max(0, (Math.ceil(size / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small; // begin
      pads[i + 2] = total - pads[i]; // end
    }
    return pads as Pads4;
  }

  private pool(node: NodeProto, a: Attrs, op: 'MaxPool' | 'AveragePool', label: string, out: string): void {
    const indices = node.output?.[1];
    if (indices && (this.uses.get(indices) ?? 0) > 0) refuse('the Indices output is not supported');
    const x = this.data(node, 0);
    const k = a.ints('kernel_shape') ?? refuse('missing attribute kernel_shape');
    if (k.length !== 2) refuse(`only 2-D pooling is supported (kernel_shape [${k}])`);
    if (!k.every((x) => Number.isInteger(x) && x >= 1)) refuse(`kernel_shape [${k}] must be positive integers`);
    const kernel = k as Pair;
    const strides = pair(a.ints('strides'), 'strides');
    const dilations = pair(a.ints('dilations'), 'dilations');
    let pads = this.windowPads(a, x, kernel, strides, dilations);
    const ceilMode = a.int('ceil_mode', 0) !== 0;
    if (op === 'MaxPool') {
      return void this.emit(label, { type: 'MaxPool', kernel, strides, pads, dilations, ceilMode }, [x], out);
    }
    if (dilations[0] !== 1 || dilations[1] !== 1) refuse('AveragePool dilations are not supported');
    let countIncludePad = a.int('count_include_pad', 0) !== 0;
    const fold = this.padFold.get(node.input?.[0] ?? '');
    if (fold) {
      // The explicit Pad's zeros are real inputs to the window, so they count.
      if (ceilMode) refuse('cannot fold the Pad before it into a ceil_mode AveragePool');
      if (!countIncludePad && pads.some((p) => p !== 0)) refuse('cannot fold the Pad before it: the pool pads with count_include_pad=0');
      pads = pads.map((p, i) => p + fold[i]) as Pads4;
      countIncludePad = true;
    }
    this.emit(label, { type: 'AveragePool', kernel, strides, pads, ceilMode, countIncludePad }, [x], out);
  }

  /** Softmax/LogSoftmax. Before opset 13 they work on the input flattened to 2-D at `axis`. */
  private softmax(node: NodeProto, a: Attrs, op: 'Softmax' | 'LogSoftmax', label: string, out: string): void {
    const x = this.data(node, 0);
    if (this.opset >= 13) return void this.emit(label, { type: op, axis: a.int('axis', -1) }, [x], out);
    const shape = this.shape(x);
    const rank = shape.length;
    let axis = a.int('axis', 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) refuse(`axis ${a.int('axis', 1)} out of range for rank ${rank}`);
    // Same as the single-axis op when nothing but 1s follows the axis.
    if (shape.slice(axis + 1).every((d) => d === 1)) return void this.emit(label, { type: op, axis }, [x], out);
    // Otherwise: flatten to 2-D, normalize over the trailing block, restore the shape.
    if (shape.slice(1).some((d) => d === BATCH)) refuse(`opset-${this.opset} ${op} over axis ${axis} needs known dims, got [${shape}]`);
    const flat = `${out}/flat`;
    const norm = `${out}/2d`;
    this.emit(`${label}/flatten`, { type: 'Flatten', axis }, [x], flat);
    this.emit(`${label}/2d`, { type: op, axis: 1 }, [flat], norm);
    this.emit(`${label}/reshape`, { type: 'Reshape', shape: shape[0] === BATCH ? [-1, ...shape.slice(1)] : [...shape] }, [norm], out);
  }

  private reshape(node: NodeProto, a: Attrs, label: string, out: string): void {
    const t = this.transposed.get(this.resolve(node.input?.[0] ?? ''));
    const x = t ? '' : this.data(node, 0);
    const xShape = t ? t.shape : this.shape(x);
    let target: number[];
    if (this.opset < 5 || a.has('shape')) {
      target = a.ints('shape') ?? refuse('missing attribute shape');
    } else {
      const s = this.intValue(node, 1, 'shape');
      if (s.dims.length !== 1) refuse(`shape must be 1-D, got [${s.dims}]`);
      // The batch size itself at the batch position is the same as 0: copy that dimension.
      target = s.values.map((v, i) => {
        if (v !== 'N') return v;
        if (xShape[i] !== BATCH || a.int('allowzero', 0)) refuse(`the batch size N lands at position ${i} of the shape; only a copy of the batch dimension is supported`);
        return 0;
      });
    }
    if (a.int('allowzero', 0) && target.includes(0)) refuse('allowzero=1 with a 0 in the shape (an empty dimension) is not supported');
    if (t) {
      const to = inferOpShape(`node ${label}`, { type: 'Reshape', shape: target }, [xShape]);
      const features = xShape.slice(1).reduce((p, q) => p * q, 1);
      return this.flattenTransposed(t, to.length === 2 && to[0] === xShape[0] && to[1] === features, label, out);
    }
    this.emit(label, { type: 'Reshape', shape: target }, [x], out);
  }

  /** An integer input known at import time: a constant or folded shape arithmetic. */
  private intValue(node: NodeProto, index: number, what: string): ShapeValue {
    const raw = node.input?.[index] ?? '';
    const name = this.resolve(raw);
    const symbolic = this.shapeValues.get(name);
    if (symbolic) return symbolic;
    const c = this.constant(node, index, what);
    return { dims: c.dims, values: [...c.values] };
  }

  /**
   * Shape, Gather, Unsqueeze, Squeeze, Concat, Cast and Slice on values known at
   * import time (a tensor's shape, constants) are computed here and vanish from
   * the graph; on computed data they are refused.
   */
  private foldShapeOp(node: NodeProto, a: Attrs, op: string, out: string): void {
    const onlyShapes = `${op} is only supported on shapes and constants (folded at import)`;
    const input = (i: number, what: string): ShapeValue => {
      const name = this.resolve(node.input?.[i] ?? '');
      if (this.shapes.has(name) && !this.consts.has(name)) refuse(onlyShapes);
      return this.intValue(node, i, what);
    };
    const ints = (v: ShapeValue, what: string): number[] =>
      v.values.map((x) => (x === 'N' ? refuse(`${what} depends on the batch size`) : x));
    const axesOf = (i: number): number[] =>
      a.ints('axes') ?? (node.input?.[i] ? ints(this.intValue(node, i, 'axes'), 'axes') : []);
    let result: ShapeValue;
    switch (op) {
      case 'Shape': {
        const x = this.data(node, 0);
        const shape = this.shape(x);
        const clamp = (v: number): number => Math.min(shape.length, Math.max(0, v < 0 ? v + shape.length : v));
        const dims = shape.slice(clamp(a.int('start', 0)), clamp(a.int('end', shape.length)));
        result = { dims: [dims.length], values: dims.map((d) => (d === BATCH ? 'N' : d)) };
        break;
      }
      case 'Gather': {
        const data = input(0, 'data');
        const idx = input(1, 'indices');
        if (data.dims.length !== 1 || a.int('axis', 0) !== 0) refuse('only Gather from a 1-D shape along axis 0 is supported');
        const n = data.values.length;
        result = { dims: idx.dims, values: ints(idx, 'indices').map((i) => data.values[i < 0 ? i + n : i] ?? refuse(`index ${i} out of range`)) };
        break;
      }
      case 'Unsqueeze': {
        const data = input(0, 'data');
        const axes = axesOf(1);
        const rank = data.dims.length + axes.length;
        const dims = [...data.dims];
        for (const ax of axes.map((x) => (x < 0 ? x + rank : x)).sort((p, q) => p - q)) dims.splice(ax, 0, 1);
        result = { dims, values: data.values };
        break;
      }
      case 'Squeeze': {
        const data = input(0, 'data');
        const axes = axesOf(1).map((x) => (x < 0 ? x + data.dims.length : x));
        result = { dims: data.dims.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1)), values: data.values };
        break;
      }
      case 'Concat': {
        const parts = (node.input ?? []).map((_, i) => input(i, `input ${i}`));
        if (parts.some((p) => p.dims.length !== 1)) refuse('only Concat of 1-D shapes is supported');
        const values = parts.flatMap((p) => p.values);
        result = { dims: [values.length], values };
        break;
      }
      case 'Cast': {
        const to = a.int('to', 0);
        if (to !== DataType.INT64 && to !== DataType.INT32) refuse(`only casts of shapes to int64/int32 are supported (to ${dataTypeName(to)})`);
        result = input(0, 'input');
        break;
      }
      case 'Slice': {
        const data = input(0, 'data');
        if (data.dims.length !== 1) refuse('only Slice of a 1-D shape is supported');
        const from = (attr: string, i: number): number[] | null =>
          a.ints(attr) ?? (node.input?.[i] ? ints(this.intValue(node, i, attr), attr) : null);
        const starts = from('starts', 1) ?? refuse('missing starts');
        const ends = from('ends', 2) ?? refuse('missing ends');
        const axes = from('axes', 3) ?? [0];
        const steps = from('steps', 4) ?? [1];
        if (axes.some((x) => x !== 0 && x !== -1) || steps.some((x) => x !== 1)) refuse('only Slice with step 1 along axis 0 is supported');
        const n = data.values.length;
        const clamp = (v: number): number => Math.min(n, Math.max(0, v < 0 ? v + n : v));
        const values = data.values.slice(clamp(starts[0]), clamp(ends[0]));
        result = { dims: [values.length], values };
        break;
      }
      default:
        return refuse('op not supported');
    }
    if (result.values.includes('N')) {
      this.shapeValues.set(out, result);
    } else {
      this.consts.set(out, { name: out, dims: result.dims, dataType: DataType.INT64, values: Float64Array.from(result.values as number[]) });
    }
  }

  private batchNorm(node: NodeProto, a: Attrs, label: string, out: string): void {
    if (a.int('training_mode', 0)) refuse('training_mode=1 is not supported; export the model in eval mode');
    if (!a.int('spatial', 1)) refuse('spatial=0 (per-element statistics) is not supported');
    for (const extra of (node.output ?? []).slice(1)) {
      if (extra && (this.uses.get(extra) ?? 0) > 0) refuse(`the training output "${extra}" is used; only inference BatchNormalization is supported`);
    }
    const x = this.data(node, 0);
    const [scale, bias, mean, variance] = ['scale', 'B', 'mean', 'var'].map((what, i) => this.constant(node, i + 1, what));
    const c = scale.values.length;
    if ([bias, mean, variance].some((t) => t.values.length !== c)) refuse('scale, B, mean and var must have the same length');
    const epsilon = a.float('epsilon', 1e-5);
    const layer = this.soleLayer(x);
    const channels = layer ? layer.op.weight.shape[0] : -1;
    if (layer && channels === c && !this.graphOutputs.includes(x)) {
      // y = s·(Wx + b − μ)/√(σ²+ε) + β  ⇒  W' = W·k, b' = (b − μ)·k + β with k = s/√(σ²+ε)
      const k = Float64Array.from(scale.values, (s, i) => s / Math.sqrt(Math.fround(variance.values[i] + epsilon)));
      const w = Float32Array.from(layer.op.weight.values.data as Float32Array);
      const per = w.length / c;
      for (let o = 0; o < c; o++) for (let j = 0; j < per; j++) w[o * per + j] *= k[o];
      const b0 = layer.op.bias ? (layer.op.bias.values.data as Float32Array) : new Float32Array(c);
      const b = Float32Array.from(b0, (v, o) => (v - mean.values[o]) * k[o] + bias.values[o]);
      layer.op.weight = plainWeight(w, layer.op.weight.shape);
      layer.op.bias = plainWeight(b, [c]);
      this.renameOutput(layer, out);
      this.folded.push(`BatchNormalization ${label} folded into ${layer.op.type} ${layer.name}`);
      return;
    }
    this.emit(label, {
      type: 'BatchNorm',
      scale: Float32Array.from(scale.values), bias: Float32Array.from(bias.values),
      mean: Float32Array.from(mean.values), variance: Float32Array.from(variance.values), epsilon,
    }, [x], out);
  }

  /** Add of two tensors → Add; Add of a constant → the bias of the Dense/Conv2D before it. */
  private add(node: NodeProto, label: string, out: string): void {
    const names = [0, 1].map((i) => this.resolve(node.input?.[i] ?? ''));
    const constIndex = names.findIndex((n) => this.consts.has(n));
    if (constIndex < 0) return void this.emit(label, { type: 'Add' }, [this.data(node, 0), this.data(node, 1)], out);
    if (this.consts.has(names[1 - constIndex])) refuse('both inputs are constants (constant folding is not supported)');
    const x = this.data(node, 1 - constIndex);
    const c = this.consts.get(names[constIndex])!;
    const layer = this.soleLayer(x);
    if (!layer || this.graphOutputs.includes(x)) {
      refuse(`adding the constant "${c.name}" is only supported as the bias of the MatMul/Gemm/Conv right before it`);
    }
    const m = layer!.op.weight.shape[0];
    // The constant must be one value per output channel, broadcast over the rest.
    const rank = this.shape(x).length;
    const ok = c.values.length === 1 || (c.values.length === m && c.dims.length <= rank &&
      c.dims.every((d, i) => d === 1 || i === c.dims.length - rank + 1));
    if (!ok) refuse(`constant of shape [${c.dims}] is not a per-channel bias for [${this.shape(x)}]`);
    const add = vectorBias(c, m, 1, `constant "${c.name}"`);
    const old = layer!.op.bias ? (layer!.op.bias.values.data as Float32Array) : new Float32Array(m);
    layer!.op.bias = plainWeight(Float32Array.from(old, (v, o) => v + add[o]), [m]);
    this.renameOutput(layer!, out);
    this.folded.push(`Add ${label} fused as the bias of ${layer!.op.type} ${layer!.name}`);
  }

  // ---- 5. outputs -----------------------------------------------------------------

  /**
   * Graph outputs keep their ONNX names. When a pass-through node made an output
   * another name for a computed tensor, that tensor is renamed; when it stands
   * for a graph input or another output, a copy (Reshape to the same shape) is added.
   */
  private nameOutputs(): TensorInfo[] {
    const renamed = new Set<string>();
    for (const name of this.graphOutputs) {
      const c = this.resolve(name);
      if (this.transposed.has(c) || this.flatPerm.has(c)) {
        this.issues.push({ node: `output "${name}"`, opType: 'graph output', reason: 'the output comes from a Transpose, which hnet only folds into a following MatMul/Gemm' });
      }
    }
    if (this.issues.length) return [];
    return this.graphOutputs.map((name) => {
      const c = this.resolve(name);
      if (c !== name) {
        const layer = this.producer.get(c);
        if (layer && !renamed.has(c) && !this.graphOutputs.includes(c)) {
          for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === c ? name : i));
          this.renameOutput(layer, name);
          renamed.add(c);
          this.alias.set(c, name);
        } else {
          const shape = this.shape(this.resolve(c));
          this.emit(`${name}/copy`, { type: 'Reshape', shape: shape.map(() => 0) }, [this.resolve(c)], name);
        }
      }
      const shape = this.shapes.get(name);
      if (!shape) throw new ConvertError('bad-model', `${this.source}: graph output "${name}" is not produced by any node`);
      return { name, shape: [...shape] };
    });
  }
}

function nodeName(node: NodeProto, index: number): string {
  return node.name ? node.name : `#${index}`;
}

/** Strides or dilations of a 2-D window: two positive integers (0 would divide by zero in the output size). */
function pair(v: number[] | null, what: string): Pair {
  if (v === null) return [1, 1];
  if (v.length !== 2) refuse(`${what} [${v}] must have 2 entries for 2-D windows`);
  if (!v.every((x) => Number.isInteger(x) && x >= 1)) refuse(`${what} [${v}] must be positive integers`);
  return [v[0], v[1]];
}

/** A bias constant broadcast to one value per output: scalar, [out], [1, out], [out, 1, 1]... */
function vectorBias(c: ConstTensor, out: number, scale: number, what: string): Float32Array {
  if (c.values.length === 1) return new Float32Array(out).fill(scale * c.values[0]);
  if (c.values.length !== out) {
    refuse(`${what} of shape [${c.dims}] is not one value per output (${out}); only a per-output bias maps to hnet`);
  }
  return Float32Array.from(c.values, (v) => scale * v);
}

/** A graph input's shape: float32 only; the first dim may be symbolic (the batch). */
function inputShape(v: ValueInfoProto): number[] {
  const t = v.type?.tensorType;
  if (!t) refuse('only tensor inputs are supported');
  if (t!.elemType !== DataType.FLOAT) refuse(`element type ${dataTypeName(t!.elemType ?? 0)}; hnet inputs are float32`);
  const dims = t!.shape?.dim ?? refuse('the input has no shape');
  return dims!.map((d, i) => {
    const n = toNumber(d.dimValue);
    if (n > 0) return n;
    // protobufjs names the oneof member that is set: a dim_value of 0 or -5 is a bad size, not a symbol.
    if ((d as { value?: string }).value === 'dimValue') refuse(`dimension ${i} is ${n}; sizes must be positive (only the batch dimension may be symbolic)`);
    if (i === 0) return BATCH;
    return refuse(`dimension ${i} is symbolic ("${d.dimParam ?? '?'}"); only the first (batch) dimension may be`);
  });
}
