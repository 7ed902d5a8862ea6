// ONNX → hnet model (plain weights, no hashing).
//
// The path through this file, in order:
//   1. decode the ModelProto, find the default-domain opset;
//   2. collect constants: initializers and Constant nodes;
//   3. pass-through nodes (Identity, inference Dropout) become aliases: their
//      output is another name for their input;
//   4. convert every remaining node, in the file's (topological) order, with
//      the converter the registry gives for its op and opset (converters/):
//      a node whose inputs are all known at import is evaluated (constant
//      folding), any other emits hnet nodes;
//   5. if any node could not be converted, throw ONE ConvertError listing all
//      of them; otherwise name the graph outputs,
//   6. run the passes over the finished graph (passes/: folds and fusions),
//      validate, and return.
//
// Shapes are tracked while converting (inferOpShape from @hnet/format), since
// some ONNX ops only map to hnet once the input rank is known.

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  HnetFormatError, inferOpShape, plainWeight, runReference, validateModel, BATCH,
  METADATA_KEYS, type Model, type Node, type Op, type TensorInfo,
} from '@hnet/format';
import { ConvertError, unsupportedNodes, type NodeIssue } from '../../errors.js';
import { whatToDo } from '../../hints.js';
import { CONVERT_VERSION } from '../../version.js';
import { DataType, dataTypeName, onnx, toNumber, type AttributeProto, type ModelProto, type NodeProto, type ValueInfoProto } from '../proto.js';
import { readTensor } from '../tensors.js';
import { exactInteger, float, int, readAttributes, typedAttribute } from './attributes.js';
import type { Converter, ConvertContext } from './converter.js';
import { converterFor } from './converters/index.js';
import { count, FoldBudget, fromConst, type Known } from './known.js';
import { runPasses } from './passes/index.js';
import { Refusal, refuse, Upstream } from './refusal.js';

/**
 * The oldest default-domain opset the importer reads. Older opsets differ in
 * attributes (consumed_inputs, is_test, spatial, broadcast...), which are
 * either understood by the converters or refused by the attribute check.
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
  const result = new Importer(proto, source, baseDir, new FoldBudget(bytes.length)).run();
  // Which dense model a .hnet came from, whatever it is called later.
  result.model.metadata[METADATA_KEYS.sourceSha256] = createHash('sha256').update(bytes).digest('hex');
  return result;
}

const AttributeType = onnx.AttributeProto.AttributeType;
const PASS_THROUGH = ['Identity', 'Dropout'];
const DROPOUT_ATTRIBUTES = { ratio: float(0.5), seed: int(0), is_test: int(0) };

/** Where a converter emits when its node is evaluated at import (Importer.evaluate). */
interface Scratch {
  nodes: Node[];
  shapes: Map<string, number[]>;
  constantNodes: Map<string, string>;
  results: Map<string, Known>;
}

const isDefaultDomain = (node: NodeProto): boolean => !node.domain || node.domain === 'ai.onnx';

class Importer {
  private readonly graph;
  private readonly opset: number;
  /** Tensors known at import: initializers, Constant nodes, folded results. */
  private readonly known = new Map<string, Known>();
  /** Pass-through outputs: ONNX name → the name it stands for. */
  private readonly alias = new Map<string, string>();
  private readonly consumers = new Map<string, number>(); // ONNX name → how many nodes read it
  private readonly issues: NodeIssue[] = [];
  private readonly nodes: Node[] = [];
  private readonly producer = new Map<string, Node>();
  private readonly shapes = new Map<string, number[]>();
  /** k of a computed tensor whose batch dimension holds N·k elements (absent: 1). */
  private readonly batchScales = new Map<string, number>();
  /** Constant operands already emitted as Constant nodes: known name → node output. */
  private readonly constantNodes = new Map<string, string>();
  private readonly failed = new Set<string>(); // outputs of refused nodes
  private readonly graphOutputs: string[];
  private readonly inputs: TensorInfo[] = [];
  private readonly folded: string[] = [];

  constructor(
    private readonly proto: ModelProto,
    private readonly source: string,
    private readonly baseDir: string | null,
    /** What constant folding may allocate: charged by every fold and by evaluate(). */
    private readonly budget: FoldBudget,
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
    for (const node of nodes) for (const name of new Set(node.input ?? [])) if (name) this.consumers.set(name, (this.consumers.get(name) ?? 0) + 1);
    this.collectInitializers();
    this.collectInputs();
    nodes.forEach((node, i) => {
      try {
        this.visit(node, i);
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
    for (const name of this.graphOutputs) {
      if (this.known.has(this.resolve(name))) {
        this.issues.push({ node: `output "${name}"`, opType: 'graph output', reason: 'the output is a constant; hnet graph outputs must be computed' });
      }
    }
    if (this.issues.length) throw unsupportedNodes(this.source, this.issues, whatToDo(this.issues.map((i) => i.opType)));
    const outputs = this.nameOutputs();

    const model = runPasses({
      inputs: this.inputs,
      outputs,
      nodes: this.nodes,
      metadata: {
        [METADATA_KEYS.source]: path.basename(this.source),
        [METADATA_KEYS.producer]: [this.proto.producerName, this.proto.producerVersion].filter(Boolean).join(' '),
        [METADATA_KEYS.sourceOpset]: String(this.opset),
        [METADATA_KEYS.converter]: `hnet convert (@hnet/convert ${CONVERT_VERSION})`,
      },
    }, this.folded);
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
        hnetNodes: model.nodes.length,
        folded: this.folded,
      },
    };
  }

  // ---- 2. constants and graph inputs ----------------------------------------

  private collectInitializers(): void {
    for (const t of this.graph.initializer ?? []) {
      const value = fromConst(readTensor(t, this.baseDir, `${this.source}: initializer "${t.name}"`));
      this.budget.allow(value.values.length);
      this.known.set(t.name ?? '', value);
    }
  }

  /** A Constant node's value; its one attribute says in which form. */
  private constantNode(node: NodeProto, i: number): Known {
    const attr = node.attribute?.[0];
    const what = `${this.source}: Constant node ${nodeName(node, i)}`;
    const list = (values: number[], dataType: number, dims: number[]): Known =>
      ({ dims, dataType, values: Float64Array.from(values), batch: null });
    const typed = (type: number): AttributeProto => typedAttribute(attr!, type);
    switch (attr?.name) {
      case 'value': return fromConst(readTensor(typed(AttributeType.TENSOR).t ?? {}, this.baseDir, what));
      case 'value_float': return list([typed(AttributeType.FLOAT).f ?? 0], DataType.FLOAT, []);
      case 'value_floats': return list(typed(AttributeType.FLOATS).floats ?? [], DataType.FLOAT, [attr.floats?.length ?? 0]);
      case 'value_int': return list([exactInteger(typed(AttributeType.INT).i, attr!)], DataType.INT64, []);
      case 'value_ints': return list((typed(AttributeType.INTS).ints ?? []).map((v) => exactInteger(v, attr!)), DataType.INT64, [attr.ints?.length ?? 0]);
      default: return refuse(`attribute "${attr?.name}" is not supported`);
    }
  }

  private collectInputs(): void {
    for (const v of this.graph.input ?? []) {
      const name = v.name ?? '';
      if (this.known.has(name)) continue; // IR < 4: initializers are listed as inputs too
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

  /** Follows aliases to the tensor they stand for; the path is shortened as it goes, so a chain of 60k Dropouts stays linear. */
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

  private passThrough(node: NodeProto, i: number): void {
    const op = node.opType ?? '';
    if (op === 'Dropout') {
      readAttributes(node, DROPOUT_ATTRIBUTES);
      const mask = node.output?.[1];
      if (mask && this.isUsed(mask)) refuse('the mask output is used; hnet only runs Dropout as the inference identity');
      const training = node.input?.[2];
      if (training) {
        const t = this.known.get(this.resolve(training));
        if (!t) refuse('training_mode must be a constant');
        if (t!.values[0]) refuse('training_mode is true; only inference Dropout (the identity) is supported');
      }
      this.folded.push(`Dropout ${nodeName(node, i)} removed (the identity at inference)`);
    } else {
      readAttributes(node, {});
    }
    this.alias.set(node.output?.[0] ?? '', node.input?.[0] ?? '');
  }

  // ---- 4. conversion ------------------------------------------------------------

  private visit(node: NodeProto, index: number): void {
    if (!isDefaultDomain(node)) refuse(`op from domain "${node.domain}" is not supported`);
    const op = node.opType ?? '';
    if (op === 'Constant') return void this.known.set(node.output?.[0] ?? '', this.constantNode(node, index));
    if (PASS_THROUGH.includes(op)) return this.passThrough(node, index);
    const converter = converterFor(op, this.opset);
    const attrs = readAttributes(node, converter.attributes);
    if (!(node.output?.[0])) refuse('no output');
    const ctx = this.context(node, index, attrs);
    const names = (node.input ?? []).map((n) => (n ? this.resolve(n) : ''));
    // An input from a refused node: the converter still runs, so that the node's own problems are listed too.
    const allKnown = names.length > 0 && names.every((n) => !n || this.known.has(n));
    if (allKnown) {
      const values = converter.fold
        ? converter.fold(ctx, names.map((n) => (n ? this.known.get(n)! : null)), node)
        : this.evaluate(converter, node, index, attrs);
      if (values) {
        values.forEach((v, i) => v && node.output?.[i] && this.known.set(node.output[i], v));
        return;
      }
    }
    converter.convert(ctx, node);
  }

  /**
   * The context a converter sees. With `scratch`, what it emits goes to a
   * scratch graph instead (evaluate(), below), and its data inputs are the
   * known values as Constant nodes.
   */
  private context(node: NodeProto, index: number, attrs: ConvertContext['attrs'], scratch: Scratch | null = null): ConvertContext {
    const inputs = node.input ?? [];
    const outputs = node.output ?? [];
    const label = nodeName(node, index);
    const out = outputs[0];
    const has = (i: number): boolean => !!inputs[i];
    const known = (i: number): Known | null => {
      if (!has(i)) return null;
      const name = this.resolve(inputs[i]);
      if (this.failed.has(name)) throw new Upstream();
      return this.known.get(name) ?? null;
    };
    const constant = (i: number, what: string): Known => {
      if (!has(i)) refuse(`${what} (input ${i}) is missing`);
      return known(i) ?? refuse(`${what} ("${inputs[i]}") must be a constant (an initializer or Constant node)`);
    };
    const data = (i: number): string => {
      if (scratch) return operand(i);
      const raw = inputs[i] ?? '';
      if (!raw) refuse(`input ${i} is missing`);
      const name = this.resolve(raw);
      if (this.failed.has(name) || this.failed.has(raw)) throw new Upstream();
      if (this.known.has(name)) refuse(`input ${i} ("${raw}") is a constant; hnet expects a computed tensor here`);
      if (!this.shapes.has(name)) refuse(`input ${i} ("${raw}") is not produced by any node or graph input`);
      return name;
    };
    const shapes = scratch?.shapes ?? this.shapes;
    const shape = (name: string): number[] => shapes.get(name) ?? refuse(`shape of "${name}" is unknown`);
    const emit = (op: Op, from: string[], output = out, suffix?: string): string => {
      const name = suffix ? `${label}/${suffix}` : label;
      const outShape = inferOpShape(`node ${name}`, op, from.map(shape));
      const hnetNode: Node = { name, op, inputs: from, outputs: [output] };
      shapes.set(output, outShape);
      if (scratch) {
        scratch.nodes.push(hnetNode);
        return output;
      }
      this.batchScales.set(output, batchScaleOf(op, from.map(shape), outShape, from.map((f) => this.batchScales.get(f) ?? 1)));
      this.nodes.push(hnetNode);
      this.producer.set(output, hnetNode);
      return output;
    };
    const constantNodes = scratch?.constantNodes ?? this.constantNodes;
    const operand = (i: number): string => {
      const k = known(i);
      if (!k) return data(i);
      const name = this.resolve(inputs[i]);
      const existing = constantNodes.get(name);
      if (existing) return existing;
      if (k.batch && k.batch.some((b) => b !== 0)) refuse(`input ${i} ("${inputs[i]}") depends on the batch size; hnet needs it computed or constant`);
      // hnet weights have dims >= 1: a scalar is stored as [1], which broadcasts the same.
      const dims = k.dims.length ? k.dims : [1];
      if (dims.includes(0)) refuse(`input ${i} ("${inputs[i]}") is an empty constant`);
      constantNodes.set(name, name);
      return emit({ type: 'Constant', value: plainWeight(Float32Array.from(k.values), dims) }, [], name, `const ${i}`);
    };
    return {
      opType: node.opType ?? '',
      opset: this.opset,
      label,
      attrs,
      inputs,
      outputs,
      out,
      has,
      known,
      constant,
      optionalConstant: (i, what) => (has(i) ? constant(i, what) : null),
      used: (output) => this.isUsed(output),
      budget: this.budget,
      data,
      operand,
      shape,
      batchScale: (name) => this.batchScales.get(name) ?? 1,
      emit,
      temp: (suffix) => `${out}/${suffix}`,
      define: (output, value) => void (scratch?.results ?? this.known).set(output, value),
      alias: (output, input) => {
        if (!scratch) return void this.alias.set(output, input);
        scratch.results.set(output, this.known.get(this.resolve(input)) ?? refuse(`"${input}" is not known at import`));
      },
      note: (text) => void (scratch ? undefined : this.folded.push(text)),
    };
  }

  /**
   * A node whose inputs are all known, for an op without its own fold (a
   * Conv of constants): its converter emits into a scratch graph that reads
   * the values as Constant nodes, and the reference forward pass — the
   * definition of what hnet computes — runs it.
   */
  private evaluate(converter: Converter, node: NodeProto, index: number, attrs: ConvertContext['attrs']): (Known | null)[] {
    const scratch: Scratch = { nodes: [], shapes: new Map(), constantNodes: new Map(), results: new Map() };
    converter.convert(this.context(node, index, attrs, scratch), node);
    const outputs = node.output ?? [];
    const computed = outputs.filter((o) => o && !scratch.results.has(o) && scratch.shapes.has(o));
    // Charged before the reference allocates them (a Pad or Resize of a constant to a huge shape).
    for (const n of scratch.nodes) {
      if (n.op.type !== 'Constant') this.budget.charge(count(scratch.shapes.get(n.outputs[0])!), `${n.op.type} to [${scratch.shapes.get(n.outputs[0])}]`);
    }
    if (computed.length) {
      // The reference forward pass wants a graph input; this one is read by no node.
      const unused = `${outputs[0]}/unused input`;
      const values = runReference({
        inputs: [{ name: unused, shape: [1] }],
        outputs: computed.map((name) => ({ name, shape: scratch.shapes.get(name)! })),
        nodes: scratch.nodes,
        metadata: {},
      }, { [unused]: { shape: [1], data: new Float32Array(1) } });
      // Scalars stay scalars (a Constant node holds one as [1]).
      const scalars = (node.input ?? []).every((n) => !n || this.known.get(this.resolve(n))!.dims.length === 0);
      for (const name of computed) {
        const t = values[name];
        const dims = scalars && t.data.length === 1 ? [] : t.shape;
        scratch.results.set(name, { dims, dataType: DataType.FLOAT, values: Float64Array.from(t.data), batch: null });
      }
    }
    // An output the converter does not produce (BatchNormalization's training statistics) must be unused.
    return outputs.map((o) => scratch.results.get(o) ?? (o && this.isUsed(o) ? refuse(`output "${o}" could not be evaluated at import`) : null));
  }

  /** Gives a node a new output name (the graph output it computes). */
  private renameOutput(node: Node, output: string): void {
    const old = node.outputs[0];
    node.outputs[0] = output;
    this.shapes.set(output, this.shapes.get(old)!);
    this.shapes.delete(old);
    this.producer.delete(old);
    this.producer.set(output, node);
  }

  // ---- 5. outputs -----------------------------------------------------------------

  /**
   * Graph outputs keep their ONNX names. When a pass-through node made an output
   * another name for a computed tensor, that tensor is renamed; when it stands
   * for a graph input or another output, a copy (Reshape to the same shape) is added.
   */
  private nameOutputs(): TensorInfo[] {
    const renamed = new Set<string>();
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
          const shape = this.shapes.get(this.resolve(c)) ?? [];
          const copy: Node = { name: `${name}/copy`, op: { type: 'Reshape', shape: shape.map(() => 0) }, inputs: [this.resolve(c)], outputs: [name] };
          this.nodes.push(copy);
          this.shapes.set(name, shape);
        }
      }
      const shape = this.shapes.get(name);
      if (!shape) throw new ConvertError('bad-model', `${this.source}: graph output "${name}" is not produced by any node`);
      return { name, shape: [...shape] };
    });
  }
}

/**
 * k of the output's batch dimension (N·k elements), for Shape() of it later:
 * a Reshape or Flatten that merges the batch with known dimensions multiplies
 * k by their product, one that infers the batch entry (-1) divides it out;
 * an Expand to -1 is the graph's batch; every other op keeps its first input's.
 */
function batchScaleOf(op: Op, inputs: number[][], out: number[], scales: number[]): number {
  const known = (dims: number[]): number => count(dims.filter((d) => d !== BATCH));
  if (op.type === 'Reshape' || op.type === 'Flatten') {
    if (!inputs[0].includes(BATCH) || !out.includes(BATCH)) return 1;
    return (scales[0] * known(inputs[0])) / known(out);
  }
  if (op.type === 'Expand') return 1;
  return scales[0] ?? 1;
}

function nodeName(node: NodeProto, index: number): string {
  return node.name ? node.name : `#${index}`;
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
