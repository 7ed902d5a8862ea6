// .hnet bytes → Model, with full validation.
//
// Order of checks (each with an error that says what was expected and what
// was found): size, file identifier, format version, then every field through
// a bounds-checked buffer, then the graph and shapes (validateModel).

import { HnetFormatError } from '../errors.js';
import * as fb from '../generated/hnet_generated.js';
import type { DType, HashSpec, Model, Node, Op, Pads4, Pair, StoredValues, TensorInfo, Weight } from '../model.js';
import { OP_TYPES } from '../model.js';
import { MAX_RANK } from '../limits.js';
import { RESIZE_COORDINATES, RESIZE_MODES, RESIZE_NEAREST, validateModel, validateTensorShape } from '../validate.js';
import { FILE_IDENTIFIER, FORMAT_VERSION, formatVersionString, type Version } from '../version.js';
import { storedBytes, unpackInt4 } from '../values.js';
import { CheckedByteBuffer } from './checked-byte-buffer.js';

/** The storage dtype of each DType tag of the schema. */
const DTYPE_NAME: Record<number, DType | undefined> = {
  [fb.DType.Float32]: 'float32', [fb.DType.Float16]: 'float16', [fb.DType.Int8]: 'int8', [fb.DType.Int4]: 'int4',
};

/** The hash algorithm of each HashAlgorithm tag of the schema. */
const ALGORITHM_NAMES: Record<number, HashSpec['algorithm'] | undefined> = {
  [fb.HashAlgorithm.XXH32]: 'xxh32', [fb.HashAlgorithm.XXH32Block]: 'xxh32-block', [fb.HashAlgorithm.XXH32AlignedBlock]: 'xxh32-aligned-block',
};

const invalid = (field: string, detail: string): never => {
  throw new HnetFormatError('invalid-field', field, detail);
};

export interface FileVersions {
  /** The format version the writer implemented. */
  format: Version;
  /** The oldest reader that can run the file. */
  minReader: Version;
}

/**
 * Checks size and identifier and reads the two version fields, without
 * judging them: for tools that report on a file (hnet inspect). Throws
 * HnetFormatError when the file is not an .hnet file at all.
 */
export function readVersions(bytes: Uint8Array): FileVersions {
  return openFile(bytes).versions;
}

/**
 * The metadata of an .hnet file without decoding its graph and weights: for
 * callers that hand the bytes to the WASM runtime but need a key such as the
 * input normalization (hnet eval).
 */
export function readMetadata(bytes: Uint8Array): Record<string, string> {
  const { root, reader } = openFile(bytes);
  return readMetadataTable(root, reader);
}

function readMetadataTable(root: fb.Model, reader: Reader): Record<string, string> {
  const metadata: Record<string, string> = {};
  reader.list('metadata', reader.at('metadata', () => root.metadataLength()), (i) => {
    const kv = reader.at(`metadata[${i}]`, () => root.metadata(i)) ?? invalid(`metadata[${i}]`, 'missing entry');
    const key = reader.at(`metadata[${i}].key`, () => kv.key()) ?? invalid(`metadata[${i}].key`, 'missing required key');
    metadata[key] = reader.at(`metadata[${i}].value`, () => kv.value()) ?? '';
  });
  return metadata;
}

function openFile(bytes: Uint8Array): { root: fb.Model; reader: Reader; versions: FileVersions } {
  // 4 bytes of root offset + 4 of identifier come before anything else.
  if (bytes.length < 8) {
    throw new HnetFormatError('truncated', 'header', `${bytes.length} bytes is too short for an .hnet file (at least 8 needed)`);
  }
  const identifier = String.fromCharCode(...bytes.subarray(4, 8));
  if (identifier !== FILE_IDENTIFIER) {
    throw new HnetFormatError('bad-identifier', 'file_identifier', `expected "${FILE_IDENTIFIER}" at bytes 4..8, found ${JSON.stringify(identifier)}: not an .hnet file`);
  }
  const bb = new CheckedByteBuffer(bytes);
  const root = fb.Model.getRootAsModel(bb);
  const reader = new Reader(bb);
  const format = reader.version('format_version', root.formatVersion());
  const minReader = reader.version('min_reader_version', root.minReaderVersion());
  return { root, reader, versions: { format, minReader } };
}

/**
 * Whether a reader of version `reader` may read a file (docs/FORMAT.md, "Versioning"):
 * the same major version, and a minor at least the file's min_reader_version.
 * Throws HnetFormatError 'unsupported-version' saying which side to upgrade.
 */
export function checkReaderVersion(file: FileVersions, reader: Version = FORMAT_VERSION): void {
  const { format, minReader } = file;
  if (format.major !== reader.major) {
    throw new HnetFormatError('unsupported-version', 'format_version', `file is format ${formatVersionString(format)} but this reader supports ${formatVersionString(reader)}; ${format.major > reader.major ? 'upgrade hnet to read it' : 'convert it again with a current hnet'}`);
  }
  if (minReader.major !== reader.major || minReader.minor > reader.minor) {
    throw new HnetFormatError('unsupported-version', 'min_reader_version', `file needs a reader of format ${formatVersionString(minReader)} or newer, this one is ${formatVersionString(reader)}; upgrade hnet`);
  }
}

export function decode(bytes: Uint8Array): Model {
  const { root, reader, versions } = openFile(bytes);
  checkReaderVersion(versions);

  // Names are unique (checked while reading: a file may repeat one huge tensor many times).
  const seenNames = new Map<string, number>();
  const tensors = reader.list('tensors', reader.at('tensors', () => root.tensorsLength()), (i) => {
    const t = reader.tensor(`tensors[${i}]`, reader.at(`tensors[${i}]`, () => root.tensors(i)));
    const first = seenNames.get(t.name);
    if (first !== undefined) invalid(`tensors[${i}].name`, `"${t.name.length > 64 ? `${t.name.slice(0, 64)}...` : t.name}" is not unique (also tensors[${first}])`);
    seenNames.set(t.name, i);
    return t;
  });
  const tensorName = (field: string, index: number): string => {
    if (index >= tensors.length) invalid(field, `tensor index ${index} is out of range (${tensors.length} tensors)`);
    return tensors[index].name;
  };
  const graphTensor = (field: string, index: number): TensorInfo => {
    const t = tensors[index] ?? invalid(field, `tensor index ${index} is out of range (${tensors.length} tensors)`);
    if (!t.shape) invalid(field, `graph input/output "${t.name}" needs a shape`);
    return { name: t.name, shape: t.shape! };
  };
  const inputs = reader.list('inputs', reader.at('inputs', () => root.inputsLength()), (i) => graphTensor(`inputs[${i}]`, reader.at(`inputs[${i}]`, () => root.inputs(i)) ?? 0));
  const outputs = reader.list('outputs', reader.at('outputs', () => root.outputsLength()), (i) => graphTensor(`outputs[${i}]`, reader.at(`outputs[${i}]`, () => root.outputs(i)) ?? 0));
  const nodes = reader.list('nodes', reader.at('nodes', () => root.nodesLength()), (i) => reader.node(`nodes[${i}]`, reader.at(`nodes[${i}]`, () => root.nodes(i)), tensorName));
  const metadata = readMetadataTable(root, reader);

  const model: Model = { inputs, outputs, nodes, metadata };
  validateModel(model);
  return model;
}

/** Field-by-field reading, each read labelled with the field it serves. */
class Reader {
  constructor(private readonly bb: CheckedByteBuffer) {}

  /** Runs one read with its field recorded for error messages. */
  at<T>(field: string, read: () => T): T {
    this.bb.field = field;
    return read();
  }

  list<T>(field: string, length: number, item: (i: number) => T): T[] {
    const out: T[] = [];
    for (let i = 0; i < length; i++) out.push(item(i));
    return out;
  }

  version(field: string, v: fb.Version | null): Version {
    if (!v) invalid(field, 'missing required version');
    return this.at(field, () => ({ major: v!.major(), minor: v!.minor() }));
  }

  tensor(field: string, t: fb.Tensor | null): { name: string; shape: number[] | null } {
    if (!t) invalid(field, 'missing tensor');
    const name = this.at(`${field}.name`, () => t!.name()) ?? invalid(`${field}.name`, 'missing required name');
    if (!name) invalid(`${field}.name`, 'empty tensor name');
    const length = this.at(`${field}.shape`, () => t!.shapeLength());
    // A graph input/output has a shape; an intermediate tensor has none (length 0),
    // and one that has a shape must still obey the rules (the runtime checks every tensor).
    if (length > MAX_RANK) throw new HnetFormatError('limit', `${field}.shape`, `tensor "${name}" has rank ${length}, above the cap of ${MAX_RANK}`);
    const shape = length > 0 ? this.ints(`${field}.shape`, length, (i) => t!.shape(i), 8) : null;
    if (shape) validateTensorShape(name, shape, `${field}.shape`);
    return { name, shape };
  }

  /**
   * A vector of integers read one checked element at a time (int64 arrives as
   * bigint, exact in the error). elementBytes is what the decode bound counts
   * (0 for tensor indices, which the WASM reader does not copy either).
   */
  ints(field: string, length: number, read: (i: number) => number | bigint | null, elementBytes: 0 | 4 | 8): number[] {
    this.bb.field = field;
    this.bb.charge(elementBytes * length);
    return this.at(field, () => this.list(field, length, (i) => {
      const v = read(i) ?? 0;
      if (typeof v === 'bigint' && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))) {
        invalid(`${field}[${i}]`, `${v} is out of range`);
      }
      return Number(v);
    }));
  }

  floats(field: string, length: number, read: (i: number) => number | null): Float32Array {
    this.bb.field = field;
    this.bb.charge(4 * length);
    return this.at(field, () => Float32Array.from(this.list(field, length, (i) => read(i) ?? 0)));
  }

  node(field: string, n: fb.Node | null, tensorName: (field: string, index: number) => string): Node {
    if (!n) invalid(field, 'missing node');
    const name = this.at(`${field}.name`, () => n!.name()) ?? '';
    const opType = this.at(`${field}.op_type`, () => n!.opType());
    const type = OP_TYPES[opType - 1];
    if (type === undefined) {
      throw new HnetFormatError('unsupported-version', `${field}.op_type`, `unknown op tag ${opType} (this reader knows ${OP_TYPES.length} ops, format ${formatVersionString(FORMAT_VERSION)}); the file may need a newer hnet`);
    }
    const table = this.at(`${field}.op`, () => n!.op(new fb[type]()));
    if (!table) invalid(`${field}.op`, `missing required ${type} table`);
    // The table's vtable is checked here for every op, not only when a field is read: an op without
    // fields (Relu, Sub...) would otherwise accept a corrupt table offset that the runtime refuses.
    this.bb.field = `${field}.op`;
    this.at(`${field}.op`, () => this.bb.__offset((table as { bb_pos: number }).bb_pos, 4));
    const op = this.op(`${field}.op`, type, table!);
    const refs = (key: 'inputs' | 'outputs'): string[] => {
      const length = this.at(`${field}.${key}`, () => n![`${key}Length`]());
      return this.ints(`${field}.${key}`, length, (i) => n![key](i), 0).map((index, i) => tensorName(`${field}.${key}[${i}]`, index));
    };
    return { name, op, inputs: refs('inputs'), outputs: refs('outputs') };
  }

  op(field: string, type: Op['type'], table: unknown): Op {
    switch (type) {
      case 'Dense': {
        const t = table as fb.Dense;
        return { type, weight: this.requiredWeight(`${field}.weight`, t.weight()), bias: this.weight(`${field}.bias`, t.bias()) };
      }
      case 'Conv2D': {
        const t = table as fb.Conv2D;
        return {
          type,
          ...this.convFields(field, t),
          group: this.at(`${field}.group`, () => t.group()),
        };
      }
      case 'MaxPool': {
        const t = table as fb.MaxPool;
        return {
          type,
          kernel: this.pair(`${field}.kernel`, t.kernelLength(), (i) => t.kernel(i), null),
          strides: this.pair(`${field}.strides`, t.stridesLength(), (i) => t.strides(i), 1),
          pads: this.pads(`${field}.pads`, t.padsLength(), (i) => t.pads(i)),
          dilations: this.pair(`${field}.dilations`, t.dilationsLength(), (i) => t.dilations(i), 1),
          ceilMode: this.at(`${field}.ceil_mode`, () => t.ceilMode()),
        };
      }
      case 'AveragePool': {
        const t = table as fb.AveragePool;
        return {
          type,
          kernel: this.pair(`${field}.kernel`, t.kernelLength(), (i) => t.kernel(i), null),
          strides: this.pair(`${field}.strides`, t.stridesLength(), (i) => t.strides(i), 1),
          pads: this.pads(`${field}.pads`, t.padsLength(), (i) => t.pads(i)),
          ceilMode: this.at(`${field}.ceil_mode`, () => t.ceilMode()),
          countIncludePad: this.at(`${field}.count_include_pad`, () => t.countIncludePad()),
        };
      }
      case 'BatchNorm': {
        const t = table as fb.BatchNorm;
        return {
          type,
          scale: this.floats(`${field}.scale`, this.at(`${field}.scale`, () => t.scaleLength()), (i) => t.scale(i)),
          bias: this.floats(`${field}.bias`, this.at(`${field}.bias`, () => t.biasLength()), (i) => t.bias(i)),
          mean: this.floats(`${field}.mean`, this.at(`${field}.mean`, () => t.meanLength()), (i) => t.mean(i)),
          variance: this.floats(`${field}.variance`, this.at(`${field}.variance`, () => t.varianceLength()), (i) => t.variance(i)),
          epsilon: this.at(`${field}.epsilon`, () => t.epsilon()),
        };
      }
      case 'LeakyRelu':
        return { type, alpha: this.at(`${field}.alpha`, () => (table as fb.LeakyRelu).alpha()) };
      case 'Softmax':
      case 'LogSoftmax':
      case 'Flatten':
        return { type, axis: this.at(`${field}.axis`, () => (table as fb.Softmax | fb.LogSoftmax | fb.Flatten).axis()) };
      case 'Reshape': {
        const t = table as fb.Reshape;
        return { type, shape: this.ints(`${field}.shape`, this.at(`${field}.shape`, () => t.shapeLength()), (i) => t.shape(i), 8) };
      }
      case 'Constant':
        return { type, value: this.requiredWeight(`${field}.value`, (table as fb.Constant).value()) };
      case 'Concat':
        return { type, axis: this.at(`${field}.axis`, () => (table as fb.Concat).axis()) };
      case 'Slice': {
        const t = table as fb.Slice;
        const starts = this.ints(`${field}.starts`, this.at(`${field}.starts`, () => t.startsLength()), (i) => t.starts(i), 8);
        const ends = this.ints(`${field}.ends`, this.at(`${field}.ends`, () => t.endsLength()), (i) => t.ends(i), 8);
        if (starts.length === 0) invalid(`${field}.starts`, 'missing required starts (one entry per sliced axis)');
        // Absent axes and steps take their defaults, with one entry per start, so the model always has all four.
        const axesLength = this.at(`${field}.axes`, () => t.axesLength());
        const stepsLength = this.at(`${field}.steps`, () => t.stepsLength());
        const axes = axesLength === 0 ? starts.map((_, i) => i) : this.ints(`${field}.axes`, axesLength, (i) => t.axes(i), 4);
        const steps = stepsLength === 0 ? starts.map(() => 1) : this.ints(`${field}.steps`, stepsLength, (i) => t.steps(i), 8);
        return { type, starts, ends, axes, steps };
      }
      case 'Clip': {
        const t = table as fb.Clip;
        return { type, min: this.at(`${field}.min`, () => t.min()), max: this.at(`${field}.max`, () => t.max()) };
      }
      case 'HardSigmoid': {
        const t = table as fb.HardSigmoid;
        return { type, alpha: this.at(`${field}.alpha`, () => t.alpha()), beta: this.at(`${field}.beta`, () => t.beta()) };
      }
      case 'Pow':
        return { type, exponent: this.at(`${field}.exponent`, () => (table as fb.Pow).exponent()) };
      case 'ReduceMean':
      case 'ReduceSum':
      case 'ReduceMax': {
        const t = table as fb.ReduceMean | fb.ReduceSum | fb.ReduceMax;
        const length = this.at(`${field}.axes`, () => t.axesLength());
        // No axes vector: every axis.
        const axes = length === 0 ? null : this.ints(`${field}.axes`, length, (i) => t.axes(i), 4);
        return { type, axes, keepdims: this.at(`${field}.keepdims`, () => t.keepdims()) };
      }
      case 'Transpose': {
        const t = table as fb.Transpose;
        return { type, perm: this.ints(`${field}.perm`, this.at(`${field}.perm`, () => t.permLength()), (i) => t.perm(i), 4) };
      }
      case 'LayerNorm': {
        const t = table as fb.LayerNorm;
        return {
          type,
          axis: this.at(`${field}.axis`, () => t.axis()),
          epsilon: this.at(`${field}.epsilon`, () => t.epsilon()),
          scale: this.requiredWeight(`${field}.scale`, t.scale()),
          bias: this.weight(`${field}.bias`, t.bias()),
        };
      }
      case 'Gelu':
        return { type, tanhApproximation: this.at(`${field}.tanh_approximation`, () => (table as fb.Gelu).tanhApproximation()) };
      case 'Squeeze':
      case 'Unsqueeze': {
        const t = table as fb.Squeeze | fb.Unsqueeze;
        return { type, axes: this.ints(`${field}.axes`, this.at(`${field}.axes`, () => t.axesLength()), (i) => t.axes(i), 4) };
      }
      case 'Pad': {
        const t = table as fb.Pad;
        return {
          type,
          pads: this.ints(`${field}.pads`, this.at(`${field}.pads`, () => t.padsLength()), (i) => t.pads(i), 8),
          value: this.at(`${field}.value`, () => t.value()),
        };
      }
      case 'Resize': {
        const t = table as fb.Resize;
        const length = this.at(`${field}.scales`, () => t.scalesLength());
        if (length !== 2) invalid(`${field}.scales`, `expected [scale_h, scale_w], got ${length} values`);
        const [h, w] = this.floats(`${field}.scales`, 2, (i) => t.scales(i));
        return {
          type,
          mode: this.enumValue(`${field}.mode`, RESIZE_MODES, this.at(`${field}.mode`, () => t.mode())),
          coordinates: this.enumValue(`${field}.coordinates`, RESIZE_COORDINATES, this.at(`${field}.coordinates`, () => t.coordinates())),
          nearest: this.enumValue(`${field}.nearest`, RESIZE_NEAREST, this.at(`${field}.nearest`, () => t.nearest())),
          scales: [h, w],
        };
      }
      case 'ConvTranspose': {
        const t = table as fb.ConvTranspose;
        return {
          type,
          ...this.convFields(field, t),
          outputPadding: this.pair(`${field}.output_padding`, t.outputPaddingLength(), (i) => t.outputPadding(i), 0),
          group: this.at(`${field}.group`, () => t.group()),
        };
      }
      case 'Expand': {
        const t = table as fb.Expand;
        return { type, shape: this.ints(`${field}.shape`, this.at(`${field}.shape`, () => t.shapeLength()), (i) => t.shape(i), 8) };
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
      case 'Add':
      case 'Mul':
      case 'Sub':
      case 'Div':
      case 'HardSwish':
      case 'Sqrt':
      case 'Exp':
      case 'Erf':
      case 'Neg':
      case 'MatMul':
        return { type };
    }
  }

  /** The name of a schema enum value; a value this reader does not know may come from a newer minor version. */
  enumValue<T extends string>(field: string, names: readonly T[], value: number): T {
    const name = names[value];
    if (name === undefined) {
      throw new HnetFormatError('unsupported-version', field, `unknown value ${value} (this reader knows ${names.join(', ')}); the file may need a newer hnet`);
    }
    return name;
  }

  /** The fields Conv2D and ConvTranspose share: weight, bias, strides, pads, dilations. */
  convFields(field: string, t: fb.Conv2D | fb.ConvTranspose): { weight: Weight; bias: Weight | null; strides: Pair; pads: Pads4; dilations: Pair } {
    return {
      weight: this.requiredWeight(`${field}.weight`, t.weight()),
      bias: this.weight(`${field}.bias`, t.bias()),
      strides: this.pair(`${field}.strides`, t.stridesLength(), (i) => t.strides(i), 1),
      pads: this.pads(`${field}.pads`, t.padsLength(), (i) => t.pads(i)),
      dilations: this.pair(`${field}.dilations`, t.dilationsLength(), (i) => t.dilations(i), 1),
    };
  }

  /** A [uint32] of two values; absent means [fallback, fallback] (or required when fallback is null). */
  pair(field: string, length: number, read: (i: number) => number | null, fallback: number | null): Pair {
    if (length === 0) {
      if (fallback === null) invalid(field, 'missing required pair of values');
      return [fallback!, fallback!];
    }
    if (length !== 2) invalid(field, `expected 2 values, got ${length}`);
    return this.ints(field, 2, read, 4) as Pair;
  }

  pads(field: string, length: number, read: (i: number) => number | null): Pads4 {
    if (length === 0) return [0, 0, 0, 0];
    if (length !== 4) invalid(field, `expected 4 values [top, left, bottom, right], got ${length}`);
    return this.ints(field, 4, read, 4) as Pads4;
  }

  requiredWeight(field: string, w: fb.Weight | null): Weight {
    return this.weight(field, w) ?? invalid(field, 'missing required weight');
  }

  weight(field: string, w: fb.Weight | null): Weight | null {
    if (!w) return null;
    const shape = this.ints(`${field}.shape`, this.at(`${field}.shape`, () => w.shapeLength()), (i) => w.shape(i), 4);
    const spec = this.at(`${field}.hash`, () => w.hash());
    let hash: HashSpec | null = null;
    if (spec) {
      const algorithm = this.at(`${field}.hash.algorithm`, () => spec.algorithm());
      const name = ALGORITHM_NAMES[algorithm];
      if (name === undefined) {
        throw new HnetFormatError('unsupported-version', `${field}.hash.algorithm`, `unknown hash algorithm ${algorithm}; the file may need a newer hnet`);
      }
      const bucketSeed = this.at(`${field}.hash.bucket_seed`, () => spec.bucketSeed());
      const signSeed = this.at(`${field}.hash.signed`, () => spec.signed()) ? this.at(`${field}.hash.sign_seed`, () => spec.signSeed()) : null;
      // The range of block (1..32) is checked by validate, like every other field's.
      const block = this.at(`${field}.hash.block`, () => spec.block());
      if (algorithm === fb.HashAlgorithm.XXH32 && block !== 0) invalid(`${field}.hash.block`, `${block} is set, but block is only for xxh32-block and xxh32-aligned-block`);
      hash = name === 'xxh32' ? { algorithm: name, bucketSeed, signSeed } : { algorithm: name, bucketSeed, signSeed, block };
    }
    const values = this.values(`${field}.values`, this.at(`${field}.values`, () => w.values()));
    return { shape, hash, values };
  }

  values(field: string, values: fb.Values | null): StoredValues {
    const v = values ?? invalid(field, 'missing required values');
    // Weights that point at one Values table share one decoded array, so a
    // model that reuses a table decodes in about its file size.
    const known = this.sharedValues.get(v.bb_pos);
    if (known) return known;
    const read = this.readValues(field, v);
    this.sharedValues.set(v.bb_pos, read);
    return read;
  }

  private readonly sharedValues = new Map<number, StoredValues>(); // by Values table position
  private readonly decodedData = new Set<number>(); // data vectors copied, by byte offset

  private readValues(field: string, v: fb.Values): StoredValues {
    const dtype = this.at(`${field}.dtype`, () => v.dtype());
    const count = this.at(`${field}.count`, () => v.count());
    const scale = this.at(`${field}.scale`, () => v.scale());
    const name = DTYPE_NAME[dtype];
    if (name === undefined) throw new HnetFormatError('unsupported-version', `${field}.dtype`, `unknown dtype ${dtype}; the file may need a newer hnet`);
    if (count === 0) invalid(`${field}.count`, 'K = 0: a weight needs at least one stored value');
    const bytes = this.dataBytes(`${field}.data`, v);
    const expected = storedBytes(name, count);
    if (bytes.length !== expected) {
      invalid(`${field}.data`, `holds ${bytes.length} bytes but count ${count} of ${fb.DType[dtype]} needs ${expected}`);
    }
    // A second Values table over data already decoded is aliasing: it counts.
    if (this.decodedData.has(bytes.byteOffset)) this.bb.charge(bytes.length);
    this.decodedData.add(bytes.byteOffset);
    if (name === 'int8' || name === 'int4') {
      if (!(Number.isFinite(scale) && scale > 0)) invalid(`${field}.scale`, `${name} scale must be finite and > 0, got ${scale}`);
    }
    if (name === 'int4') {
      // An odd count leaves the last high nibble unused: it must be 0, so that every int4 array has one encoding.
      if (count % 2 === 1 && bytes[bytes.length - 1] >> 4 !== 0) invalid(`${field}.data`, `the unused high nibble after int4 value ${count - 1} must be 0`);
      const q = unpackInt4(bytes, count);
      const bad = q.indexOf(-8);
      if (bad >= 0) invalid(`${field}.data`, `int4 value ${bad} is -8; the format's int4 range is [-7, 7]`);
      return { dtype: 'int4', data: q, scale };
    }
    // Copy into a fresh, aligned array: the model must not alias the caller's buffer.
    const copy = bytes.slice();
    switch (name) {
      case 'float32':
        return { dtype: 'float32', data: new Float32Array(copy.buffer) };
      case 'float16':
        return { dtype: 'float16', data: new Uint16Array(copy.buffer) };
      default:
        return { dtype: 'int8', data: new Int8Array(copy.buffer), scale };
    }
  }

  /** The data vector as a view, after checking it lies inside the buffer. */
  dataBytes(field: string, v: fb.Values): Uint8Array {
    const bytes = this.bb.bytes();
    let view: Uint8Array | null;
    let threw = false;
    try {
      view = this.at(field, () => v.dataArray());
    } catch (e) {
      if (e instanceof HnetFormatError) throw e;
      threw = true;
      view = null; // the generated accessor built an impossible view: negative or past the ArrayBuffer
    }
    if (view === null && !threw) invalid(field, 'missing data vector');
    if (!view || view.byteOffset + view.length > bytes.byteOffset + bytes.length) {
      throw new HnetFormatError('truncated', field, 'data vector runs past the end of the buffer (truncated or corrupt file)');
    }
    return view;
  }
}
