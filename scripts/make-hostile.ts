// Rebuilds the hostile .hnet files of the regression corpus (test/hostile/hnet/)
// and their entries in test/hostile/manifest.json; entries of other loaders are
// kept as they are. Run from the repository root: npx tsx scripts/make-hostile.ts
//
// Each case is the smallest file that shows one attack or one disagreement
// between readers (issue 11). Most are models written without validation
// (encodeUnvalidated); the aliasing cases need a hand-built FlatBuffer,
// since no writer of ours repeats an offset.

import { readFileSync, writeFileSync } from 'node:fs';
import * as flatbuffers from 'flatbuffers';
import { encode, FILE_IDENTIFIER, FORMAT_VERSION, type Model, type Op, type StoredValues, type TensorInfo, type Weight } from '@hnet/format';
import * as fb from '@hnet/format/generated';
import { encodeUnvalidated } from '@hnet/format/testing';

const CORPUS = new URL('../test/hostile/', import.meta.url);

type Outcome = { accept: true } | { error: string; message: string };
interface Case {
  file: string;
  what: string;
  expect: Record<string, Outcome>;
}
const refused = (format: [string, string], wasm: [string, string]): Record<string, Outcome> => ({
  format: { error: format[0], message: format[1] },
  wasm: { error: wasm[0], message: wasm[1] },
});

/** A one-node model from x to y. */
function oneNode(x: TensorInfo, op: Op, y: TensorInfo, extra: Partial<Model> = {}): Model {
  return { inputs: [x], outputs: [y], nodes: [{ name: op.type.toLowerCase(), op, inputs: [x.name], outputs: [y.name] }], metadata: {}, ...extra };
}
const plain = (shape: number[]): Weight => ({ shape, hash: null, values: { dtype: 'float32', data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) } });
const hashed = (shape: number[], k: number): Weight => ({ shape, hash: { algorithm: 'xxh32', bucketSeed: 1, signSeed: 2 }, values: { dtype: 'float32', data: new Float32Array(k).fill(0.5) } });
const conv = (pads: [number, number, number, number], strides: [number, number] = [1, 1]): Op =>
  ({ type: 'Conv2D', weight: plain([1, 1, 3, 3]), bias: null, strides, pads, dilations: [1, 1], group: 1 });

/** The root Model table around tensors and nodes already in the builder. */
function finishModel(b: flatbuffers.Builder, tensors: number[], inputs: number[], outputs: number[], nodes: number[]): Uint8Array {
  const tensorsVector = fb.Model.createTensorsVector(b, tensors);
  const inputsVector = fb.Model.createInputsVector(b, inputs);
  const outputsVector = fb.Model.createOutputsVector(b, outputs);
  const nodesVector = fb.Model.createNodesVector(b, nodes);
  fb.Model.startModel(b);
  fb.Model.addFormatVersion(b, fb.Version.createVersion(b, FORMAT_VERSION.major, FORMAT_VERSION.minor));
  fb.Model.addMinReaderVersion(b, fb.Version.createVersion(b, 1, 0));
  fb.Model.addTensors(b, tensorsVector);
  fb.Model.addInputs(b, inputsVector);
  fb.Model.addOutputs(b, outputsVector);
  fb.Model.addNodes(b, nodesVector);
  b.finish(fb.Model.endModel(b), FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** tensors[] holds `count` offsets of one tensor whose name is `nameBytes` long. */
function tensorNameAlias(count: number, nameBytes: number): Uint8Array {
  const b = new flatbuffers.Builder(nameBytes + 8 * count);
  const name = b.createString('x'.repeat(nameBytes));
  const shape = fb.Tensor.createShapeVector(b, [-1n, 4n]);
  const tensor = fb.Tensor.createTensor(b, name, shape);
  return finishModel(b, new Array(count).fill(tensor), [0], [0], []);
}

/** One tensor, input and output of a graph without nodes, whose name is not UTF-8. */
function invalidUtf8Name(): Uint8Array {
  const b = new flatbuffers.Builder(256);
  const name = b.createString(Uint8Array.from([0x78, 0xff, 0xfe])); // "x", then two bytes no UTF-8 string holds
  const tensor = fb.Tensor.createTensor(b, name, fb.Tensor.createShapeVector(b, [-1n, 4n]));
  return finishModel(b, [tensor], [0], [0], []);
}

/** A chain of `count` BatchNorm nodes over [N, channels] that all point at one BatchNorm table. */
function batchNormAlias(count: number, channels: number): Uint8Array {
  const b = new flatbuffers.Builder(16 * channels + 64 * count);
  const ones = new Array<number>(channels).fill(1);
  const table = fb.BatchNorm.createBatchNorm(b, fb.BatchNorm.createScaleVector(b, ones), fb.BatchNorm.createBiasVector(b, ones),
    fb.BatchNorm.createMeanVector(b, ones), fb.BatchNorm.createVarianceVector(b, ones), 1e-5);
  const tensors: number[] = [];
  for (let i = 0; i <= count; i++) {
    const name = b.createString(`t${i}`);
    const shape = i === 0 || i === count ? fb.Tensor.createShapeVector(b, [-1n, BigInt(channels)]) : 0;
    tensors.push(fb.Tensor.createTensor(b, name, shape));
  }
  const nodes: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = b.createString(`bn${i}`);
    nodes.push(fb.Node.createNode(b, name, fb.Op.BatchNorm, table, fb.Node.createInputsVector(b, [i]), fb.Node.createOutputsVector(b, [i + 1])));
  }
  return finishModel(b, tensors, [0], [count], nodes);
}

/** A valid model: `count` Dense nodes [1, width] reading x, all sharing one stored table. */
function sharedWeightTable(count: number, width: number): Uint8Array {
  const values: StoredValues = { dtype: 'float32', data: new Float32Array(width).fill(1 / width) };
  const nodes: Model['nodes'] = Array.from({ length: count }, (_, i) => ({
    name: `fc${i}`, op: { type: 'Dense', weight: { shape: [1, width], hash: null, values }, bias: null }, inputs: ['x'], outputs: [`y${i}`],
  }));
  return encode({ inputs: [{ name: 'x', shape: [-1, width] }], outputs: [{ name: `y${count - 1}`, shape: [-1, 1] }], nodes, metadata: {} });
}

const x = (shape: number[]): TensorInfo => ({ name: 'x', shape });
const y = (shape: number[]): TensorInfo => ({ name: 'y', shape });

const cases: [Case, () => Uint8Array][] = [
  [{ file: 'hnet/tensor-name-alias.hnet', what: 'tensors[] holds 4,096 offsets of one tensor with a 64 KiB name (the issue\'s 16,384 x 256 KiB version ran V8 out of heap)',
    expect: refused(['invalid-field', 'is not unique'], ['invalid', 'is not unique']) }, () => tensorNameAlias(4096, 64 << 10)],
  [{ file: 'hnet/batchnorm-table-alias.hnet', what: '64 BatchNorm nodes point at one table of 4 x 4,096 floats: 4 MiB to decode from a 70 KiB file',
    expect: refused(['invalid-field', 'aliased tables'], ['invalid', 'aliased tables']) }, () => batchNormAlias(64, 4096)],
  [{ file: 'hnet/shared-weight-table.hnet', what: 'a valid model whose 1,000 Dense nodes share one 32 KiB weight table: decodes in about its size (it took 2.1 GiB at 2,000 x 1 MiB)',
    expect: { format: { accept: true }, wasm: { accept: true } } }, () => sharedWeightTable(1000, 8192)],
  [{ file: 'hnet/dense-65536x65536-k1.hnet', what: 'a hashed Dense [65536, 65536] with K = 1: 2^32 virtual weights from 4 stored bytes (the reference reached 11.7 GiB)',
    expect: refused(['limit', 'more than the cap of 2^28'], ['invalid', 'more than 2^28 elements']) },
    () => encodeUnvalidated(oneNode(x([-1, 65536]), { type: 'Dense', weight: hashed([65536, 65536], 1), bias: null }, y([-1, 65536])))],
  [{ file: 'hnet/add-broadcast-2pow32.hnet', what: 'Add of [N, 65536, 1] and [N, 1, 65536]: 2^32 elements per example (8 GiB in the reference)',
    expect: refused(['limit', 'more than the cap of 2^28'], ['memory', 'more than 2^28 elements']) },
    () => encodeUnvalidated({ inputs: [{ name: 'a', shape: [-1, 65536, 1] }, { name: 'b', shape: [-1, 1, 65536] }], outputs: [y([-1, 65536, 65536])],
      nodes: [{ name: 'add', op: { type: 'Add' }, inputs: ['a', 'b'], outputs: ['y'] }], metadata: {} })],
  [{ file: 'hnet/maxpool-window-4096.hnet', what: 'a 4096 x 4096 MaxPool window over an 8192 x 8192 image: 2^48 window reads per example',
    expect: refused(['limit', 'multiply-adds per example'], ['memory', 'multiply-adds per example']) },
    () => encodeUnvalidated(oneNode(x([-1, 1, 8192, 8192]), { type: 'MaxPool', kernel: [4096, 4096], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false }, y([-1, 1, 4097, 4097])))],
  [{ file: 'hnet/conv-pads-8191.hnet', what: 'a 3x3 Conv with pads 8191 on an 8x8 image: a 16388 x 16388 output (minutes and gigabytes in the reference)',
    expect: refused(['limit', 'more than the cap of 2^28'], ['memory', 'more than 2^28 elements']) },
    () => encodeUnvalidated(oneNode(x([-1, 1, 8, 8]), conv([8191, 8191, 8191, 8191]), y([-1, 1, 16388, 16388])))],
  [{ file: 'hnet/conv-pads-2pow30.hnet', what: 'a Conv with pads 2^30 (the reference ended in "Invalid typed array length")',
    expect: refused(['limit', 'op.pads[0]: 1073741824 is above the cap of 2^28'], ['invalid', 'pads[0] = 1073741824, expected 0..2^28']) },
    () => encodeUnvalidated(oneNode(x([-1, 1, 8, 8]), conv([2 ** 30, 0, 0, 0]), y([-1, 1, -1, 6])))],
  [{ file: 'hnet/conv-strides-0.hnet', what: 'a Conv with strides [0, 1] (failed as "got Infinity" without naming the Conv)',
    expect: refused(['invalid-field', 'nodes[0] (conv2d, Conv2D).op.strides[0]: expected an integer >= 1, got 0'], ['invalid', "node 0 (Conv2D 'conv2d').strides[0] = 0"]) },
    () => encodeUnvalidated(oneNode(x([-1, 1, 8, 8]), conv([0, 0, 0, 0], [0, 1]), y([-1, 1, 6, 6])))],
  [{ file: 'hnet/input-two-batch-dims.hnet', what: 'an input [-1, -1]: the reference took any two sizes, the runtime one batch for both',
    expect: refused(['invalid-field', 'more than one -1'], ['invalid', 'more than one -1']) },
    () => encodeUnvalidated(oneNode(x([-1, -1]), { type: 'Relu' }, y([-1, -1])))],
  [{ file: 'hnet/output-listed-twice.hnet', what: 'outputs lists y twice: accepted by the reference, refused by the runtime',
    expect: refused(['graph', 'is listed twice'], ['invalid', 'twice']) },
    () => encodeUnvalidated(oneNode(x([-1, 4]), { type: 'Relu' }, y([-1, 4]), { outputs: [y([-1, 4]), y([-1, 4])] }))],
  [{ file: 'hnet/input-rank-1000.hnet', what: 'an input of rank 1000: accepted by the reference, refused by the runtime',
    expect: refused(['limit', 'rank 1000'], ['invalid', 'rank above 8']) },
    () => encodeUnvalidated(oneNode(x([-1, ...new Array(999).fill(1)]), { type: 'Relu' }, y([-1, ...new Array(999).fill(1)])))],
  [{ file: 'hnet/buckets-exceed-virtual.hnet', what: 'a hashed Dense [2, 3] with K = 7 buckets ("0.00x fewer" in hnet inspect at larger K)',
    expect: refused(['invalid-field', 'exceeds the virtual size'], ['invalid', 'exceeds the virtual size']) },
    () => encodeUnvalidated(oneNode(x([-1, 3]), { type: 'Dense', weight: hashed([2, 3], 7), bias: null }, y([-1, 2])))],
  [{ file: 'hnet/input-dim-0.hnet', what: 'an input [-1, 0] (reported as "symbolic")',
    expect: refused(['invalid-field', 'expected -1 (the batch) or a size >= 1, got 0'], ['invalid', 'shape[1] = 0, expected -1 (the batch) or 1..2^28']) },
    () => encodeUnvalidated(oneNode(x([-1, 0]), { type: 'Relu' }, y([-1, 0])))],
  [{ file: 'hnet/input-dim-minus-5.hnet', what: 'an input [-1, -5] (reported as "symbolic")',
    expect: refused(['invalid-field', 'expected -1 (the batch) or a size >= 1, got -5'], ['invalid', 'shape[1] = -5, expected -1 (the batch) or 1..2^28']) },
    () => encodeUnvalidated(oneNode(x([-1, -5]), { type: 'Relu' }, y([-1, -5])))],
  [{ file: 'hnet/reshape-int64-2pow60.hnet', what: 'a Reshape to [2^60 + 1]: an int64 that a double cannot hold (printed rounded before)',
    expect: refused(['invalid-field', '1152921504606846977 is out of range'], ['invalid', 'shape[0] = 1152921504606846977 is not allowed']) },
    () => {
      const bytes = encodeUnvalidated(oneNode(x([-1, 4]), { type: 'Reshape', shape: [2 ** 60] }, y([-1, 4])));
      // 2^60 + 1 has no double: write 2^60 and set the low bit of its little-endian bytes.
      const view = new DataView(bytes.buffer);
      for (let p = 0; p + 8 <= bytes.length; p += 4) {
        if (view.getBigInt64(p, true) === 2n ** 60n) { view.setBigInt64(p, 2n ** 60n + 1n, true); return bytes; }
      }
      throw new Error('reshape target not found');
    }],
  [{ file: 'hnet/name-not-utf8.hnet', what: 'a tensor name with bytes 0xff 0xfe: TypeScript read it with replacement characters, the runtime as an empty name',
    expect: refused(['invalid-field', 'tensors[0].name: the string is not valid UTF-8'], ['invalid', 'tensors[0].name: the string is not valid UTF-8']) }, invalidUtf8Name],
  [{ file: 'hnet/global-pools-one-input.hnet', what: '300 GlobalAveragePools over one [N, 1, 16384, 16384] input: each reads 2^28 elements, 2^36.2 reads per example (counted as 300 outputs of one element: decode accepted it, the runtime refused it only by its memory budget)',
    expect: refused(['limit', 'multiply-adds per example'], ['memory', 'multiply-adds per example']) },
    () => encodeUnvalidated({ inputs: [x([-1, 1, 16384, 16384])], outputs: [y([-1, 1, 1, 1])],
      nodes: Array.from({ length: 300 }, (_, i) => ({ name: `pool${i}`, op: { type: 'GlobalAveragePool' } as Op, inputs: ['x'], outputs: [i === 0 ? 'y' : `y${i}`] })), metadata: {} })],
  [{ file: 'hnet/empty.hnet', what: 'an empty file (the wrapper said "hnet_alloc(0)")',
    expect: refused(['truncated', '0 bytes is too short'], ['identifier', 'the file is empty']) }, () => new Uint8Array(0)],
];

const manifestUrl = new URL('manifest.json', CORPUS);
const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8')) as { cases: Case[] };
const kept = manifest.cases.filter((c) => !c.file.startsWith('hnet/'));
for (const [entry, build] of cases) {
  const bytes = build();
  writeFileSync(new URL(entry.file, CORPUS), bytes);
  console.log(`${entry.file}: ${bytes.length} bytes`);
}
writeFileSync(manifestUrl, `${JSON.stringify({ cases: [...cases.map(([entry]) => entry), ...kept] }, null, 2)}\n`);
