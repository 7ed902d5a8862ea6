// NumPy .npy files (format versions 1.0 to 3.0), the tensor files users hand
// to `hnet run` and the trainer. Read: any byte order of float16/32/64,
// (u)int8/16/32, int64 and bool, C order, converted to float32. Write:
// '<f4', version 1.0. No Node APIs, so the browser can use it too.

import type { Tensor } from './tensor.js';
import { float16Value } from './values.js';

/** A malformed or unsupported .npy file; the message starts with the file's name. */
export class NpyError extends Error {
  override readonly name = 'NpyError';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Reader of one element by kind and size ("f4"), given the byte order. */
const READERS: Record<string, (v: DataView, at: number, little: boolean) => number> = {
  f2: (v, at, little) => float16Value(v.getUint16(at, little)),
  f4: (v, at, little) => v.getFloat32(at, little),
  f8: (v, at, little) => v.getFloat64(at, little),
  i1: (v, at) => v.getInt8(at),
  u1: (v, at) => v.getUint8(at),
  b1: (v, at) => v.getUint8(at),
  i2: (v, at, little) => v.getInt16(at, little),
  u2: (v, at, little) => v.getUint16(at, little),
  i4: (v, at, little) => v.getInt32(at, little),
  u4: (v, at, little) => v.getUint32(at, little),
  i8: (v, at, little) => Number(v.getBigInt64(at, little)),
};

/** Parses an .npy file into a float32 tensor. `what` names the file in errors. */
export function readNpy(bytes: Uint8Array, what: string): Tensor {
  const bad = (detail: string): never => {
    throw new NpyError(`${what}: ${detail}`);
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
  // descr = byte order ('<', '>', '|', '=' or none) + kind and size: '<f4', '|u1', '>i8'.
  const typed = /^([<>|=]?)([a-z])(\d+)$/.exec(descr) ?? bad(`dtype '${descr}' is not supported (use float32 '<f4')`);
  const [, order, kind, sizeText] = typed;
  const read = READERS[kind + sizeText] ?? bad(`dtype '${descr}' is not supported (use float32 '<f4')`);
  const size = Number(sizeText);
  const little = order !== '>'; // '=' is the writer's native order: little-endian everywhere numpy runs today
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) bad(`bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (bytes.length - dataStart !== count * size) {
    bad(`${bytes.length - dataStart} data bytes for shape (${shape.join(', ')}) of ${descr} (expected ${count * size})`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = read(view, dataStart + i * size, little);
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
