// NumPy .npy files (format versions 1.0 to 3.0): the tensors of `hnet run`.
// Read: little-endian float32/float64/float16/int8/uint8/int32/int64 (and
// bool) in C order, converted to float32. Write: '<f4', version 1.0.

import { float16Value, type Tensor } from '@hnet/format';
import { ConvertError } from './errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const READERS: Record<string, [size: number, read: (v: DataView, at: number) => number]> = {
  '<f4': [4, (v, at) => v.getFloat32(at, true)],
  '<f8': [8, (v, at) => v.getFloat64(at, true)],
  '<f2': [2, (v, at) => float16Value(v.getUint16(at, true))],
  '|i1': [1, (v, at) => v.getInt8(at)],
  '|u1': [1, (v, at) => v.getUint8(at)],
  '|b1': [1, (v, at) => v.getUint8(at)],
  '<i4': [4, (v, at) => v.getInt32(at, true)],
  '<i8': [8, (v, at) => Number(v.getBigInt64(at, true))],
};

/** Parses an .npy file into a float32 tensor. `what` names the file in errors. */
export function readNpy(bytes: Uint8Array, what: string): Tensor {
  const bad = (detail: string): never => {
    throw new ConvertError('bad-input', `${what}: ${detail}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad('not an .npy file (missing the \\x93NUMPY magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) bad(`unsupported .npy version ${major}.${bytes[7]}`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) bad('truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1] ?? bad(`no 'descr' in header ${header.trim()}`);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] ?? bad(`no 'fortran_order' in header`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? bad(`no 'shape' in header`);
  if (fortran === 'True') bad('Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const key = descr === '=f4' || descr === 'f4' ? '<f4' : descr.replace(/^\|/, '|');
  const reader = READERS[key] ?? bad(`dtype '${descr}' is not supported (use float32 '<f4')`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) bad(`bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const [size, read] = reader;
  const dataStart = start + headerLen;
  if (bytes.length - dataStart !== count * size) {
    bad(`${bytes.length - dataStart} data bytes for shape (${shape.join(', ')}) of ${descr} (expected ${count * size})`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = read(view, dataStart + i * size);
  return { shape, data };
}

/** Serializes a float32 tensor as an .npy file (version 1.0, '<f4', C order). */
export function writeNpy(tensor: Tensor): Uint8Array {
  const shape = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so that the data starts at a multiple of 64; end with a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + tensor.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  tensor.data.forEach((v, i) => view.setFloat32(total + i * 4, v, true));
  return out;
}
