// ONNX TensorProto <-> plain numbers. Initializer bytes come in three forms:
// raw_data (little-endian bytes, often at an odd offset inside the file
// buffer, so they are read through a DataView, never viewed in place), the
// typed repeated fields (float_data, int64_data, ...), or an external file
// next to the model.

import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { float16Value } from '@hnet/format';
import { ConvertError } from '../errors.js';
import { DataType, dataTypeName, int64Sentinel, onnx, toNumber, toSafeInteger, type TensorProto } from './proto.js';

/** A constant tensor: values as float64 numbers (exact for float32 and int32; int64 up to 2^53). */
export interface ConstTensor {
  name: string;
  dims: number[];
  dataType: number;
  values: Float64Array;
}

const BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
};

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const beyondExact = (what: string, value: string, index: number): ConvertError =>
  new ConvertError('bad-model', `${what}: int64 value ${value} at index ${index} is beyond ±2^53, which hnet cannot hold exactly`);

/** Decodes little-endian bytes of one data type. */
function fromBytes(bytes: Uint8Array, dataType: number, count: number, what: string): Float64Array {
  const size = BYTES[dataType];
  if (size === undefined) throw new ConvertError('unsupported', `${what}: ${dataTypeName(dataType)} tensors are not supported`);
  if (bytes.length !== count * size) {
    throw new ConvertError('bad-model', `${what}: ${bytes.length} bytes of data for ${count} ${dataTypeName(dataType)} values (expected ${count * size})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    switch (dataType) {
      case DataType.FLOAT: out[i] = view.getFloat32(at, true); break;
      case DataType.DOUBLE: out[i] = view.getFloat64(at, true); break;
      case DataType.FLOAT16: out[i] = float16Value(view.getUint16(at, true)); break;
      case DataType.INT32: out[i] = view.getInt32(at, true); break;
      case DataType.INT64: {
        const big = view.getBigInt64(at, true);
        if (big > MAX_EXACT || big < -MAX_EXACT) out[i] = int64Sentinel(String(big)) ?? (() => { throw beyondExact(what, String(big), i); })();
        else out[i] = Number(big);
        break;
      }
      case DataType.INT8: out[i] = view.getInt8(at); break;
      case DataType.UINT8: case DataType.BOOL: out[i] = view.getUint8(at); break;
    }
  }
  return out;
}

/** A non-negative integer written as a decimal string (external-data offset and length). */
function byteCount(text: string, key: string, what: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new ConvertError('bad-model', `${what}: external data ${key} "${text}" is not a non-negative integer`);
  }
  return n;
}

/**
 * The bytes of an external tensor: `location` relative to the model file's
 * folder. A model is untrusted input, so the location must resolve (symlinks
 * followed) to a regular file inside that folder — never /etc/passwd,
 * ../secrets, /dev/zero or a FIFO — and only the declared range is read, after
 * checking it against the file's size and the tensor's byte count.
 */
function externalBytes(t: TensorProto, baseDir: string | null, what: string, expectedBytes: number): Uint8Array {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new ConvertError('bad-model', `${what}: external data without a "location"`);
  if (baseDir === null) {
    throw new ConvertError('bad-input', `${what}: weights are stored in the external file "${location}"; import the model from its path (not from bytes) so the file can be found`);
  }
  const refuse = (why: string): never => {
    throw new ConvertError('bad-model', `${what}: external data location "${location}" refused: ${why}`);
  };
  if (path.isAbsolute(location)) refuse('an absolute path; it must be relative to the model\'s folder');
  let root: string;
  let file: string;
  try {
    root = realpathSync(baseDir);
    file = realpathSync(path.resolve(root, location));
  } catch (e) {
    throw new ConvertError('file', `${what}: cannot read external data file ${path.resolve(baseDir, location)} (${(e as NodeJS.ErrnoException).code ?? e}); it must sit next to the model as "${location}"`);
  }
  const inside = path.relative(root, file);
  if (inside === '') refuse(`it names the model's folder itself, not a file`);
  if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) refuse(`it resolves to ${file}, outside the model's folder ${root}`);
  const offset = byteCount(entries.get('offset') ?? '0', 'offset', what);
  // O_NONBLOCK: opening a FIFO swapped in after realpath must not wait for a writer.
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw new ConvertError('file', `${what}: cannot read external data file ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  try {
    const stat = fstatSync(fd); // of the file opened, not of a path that may have changed
    if (!stat.isFile()) refuse(`${file} is not a regular file`);
    const length = entries.has('length') ? byteCount(entries.get('length')!, 'length', what) : stat.size - offset;
    if (offset + length > stat.size) {
      refuse(`the range [${offset}, ${offset + length}) lies outside ${file} (${stat.size} bytes)`);
    }
    if (length !== expectedBytes) refuse(`the range holds ${length} bytes, the tensor needs ${expectedBytes}`);
    const bytes = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = readSync(fd, bytes, done, length - done, offset + done);
      if (n === 0) refuse(`${file} ended at byte ${offset + done} while reading [${offset}, ${offset + length})`);
      done += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** Reads a TensorProto (initializer, Constant value, or a .pb test file). */
export function readTensor(t: TensorProto, baseDir: string | null, what = `tensor "${t.name ?? ''}"`): ConstTensor {
  const dims = (t.dims ?? []).map(toNumber);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataType = t.dataType ?? 0;
  let values: Float64Array;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const size = BYTES[dataType];
    if (size === undefined) throw new ConvertError('unsupported', `${what}: ${dataTypeName(dataType)} tensors are not supported`);
    values = fromBytes(externalBytes(t, baseDir, what, count * size), dataType, count, what);
  } else if (t.rawData && t.rawData.length > 0) {
    values = fromBytes(t.rawData, dataType, count, what);
  } else {
    values = typedField(t, dataType, what);
    if (values.length !== count) {
      throw new ConvertError('bad-model', `${what}: ${values.length} values for shape [${dims.join(', ')}] (expected ${count})`);
    }
  }
  return { name: t.name ?? '', dims, dataType, values };
}

function typedField(t: TensorProto, dataType: number, what: string): Float64Array {
  switch (dataType) {
    case DataType.FLOAT: return Float64Array.from(t.floatData ?? []);
    case DataType.DOUBLE: return Float64Array.from(t.doubleData ?? []);
    case DataType.INT64: return Float64Array.from(t.int64Data ?? [], (v, i) => toSafeInteger(v) ?? (() => { throw beyondExact(what, String(v), i); })());
    // float16 bit patterns and small ints travel in int32_data
    case DataType.FLOAT16: return Float64Array.from(t.int32Data ?? [], float16Value);
    case DataType.INT32: case DataType.INT8: case DataType.UINT8: case DataType.BOOL:
      return Float64Array.from(t.int32Data ?? []);
    default:
      throw new ConvertError('unsupported', `${what}: ${dataTypeName(dataType)} tensors are not supported`);
  }
}

/** A float32 TensorProto with raw_data, for export. */
export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: DataType.FLOAT, rawData: raw };
}

/** An int64 TensorProto with raw_data (Reshape shapes), for export. */
export function int64Tensor(name: string, values: number[]): TensorProto {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: raw };
}

/** Decodes a serialized TensorProto (.pb file of ONNX test data or `hnet run --input x.pb`). */
export function decodeTensorProto(bytes: Uint8Array, what: string): ConstTensor {
  let t: TensorProto;
  try {
    t = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new ConvertError('bad-input', `${what}: not a serialized ONNX TensorProto (${(e as Error).message})`);
  }
  return readTensor(t, null, what);
}
