// Each way a file or model can be invalid gives a HnetFormatError whose code
// and message name the problem and the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckedByteBuffer } from '../src/codec/checked-byte-buffer.js';
import * as fb from '../src/generated/hnet_generated.js';
import { decode, encode, HnetFormatError, plainWeight, readVersions, runReference, validateModel, type FormatErrorCode, type Model } from '../src/index.js';
import { randomModel } from './models.js';

function rejects(run: () => unknown, code: FormatErrorCode, message: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof HnetFormatError, `expected HnetFormatError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** A small valid model: x [N, 4] → Dense 3 → Relu → y [N, 3]. */
function tinyModel(): Model {
  return {
    inputs: [{ name: 'x', shape: [-1, 4] }],
    outputs: [{ name: 'y', shape: [-1, 3] }],
    nodes: [
      { name: 'fc', op: { type: 'Dense', weight: plainWeight(new Float32Array(12).fill(0.5), [3, 4]), bias: null }, inputs: ['x'], outputs: ['h'] },
      { name: 'act', op: { type: 'Relu' }, inputs: ['h'], outputs: ['y'] },
    ],
    metadata: {},
  };
}

/** Patches bytes of an encoded file through the generated reader, to forge files encode() refuses to write. */
function forge(model: Model, patch: (bytes: Uint8Array, root: fb.Model, bb: CheckedByteBuffer) => void): Uint8Array {
  const bytes = encode(model);
  const bb = new CheckedByteBuffer(bytes);
  patch(bytes, fb.Model.getRootAsModel(bb), bb);
  return bytes;
}
const firstValues = (root: fb.Model): fb.Values => root.nodes(0)!.op(new fb.Dense())!.weight()!.values()!;
const fieldPos = (table: { bb_pos: number }, bb: CheckedByteBuffer, vtableOffset: number): number =>
  table.bb_pos + bb.__offset(table.bb_pos, vtableOffset);

test('bad identifier', () => {
  const bytes = encode(tinyModel());
  bytes.set([0x4f, 0x4e, 0x4e, 0x58], 4); // "ONNX"
  rejects(() => decode(bytes), 'bad-identifier', /file_identifier: expected "HNET" at bytes 4\.\.8, found "ONNX"/);
  rejects(() => decode(new Uint8Array(3)), 'truncated', /too short/);
});

test('unsupported versions: a newer major, and a file that needs a newer reader', () => {
  const newerMajor = forge(tinyModel(), (bytes, root) => {
    const pos = root.formatVersion()!.bb_pos;
    bytes[pos] = 2; // major = 2
  });
  rejects(() => decode(newerMajor), 'unsupported-version', /format_version: file is format 2\.2 but this reader supports 1\.2; upgrade hnet/);
  const needsNewer = forge(tinyModel(), (bytes, root) => {
    bytes[root.minReaderVersion()!.bb_pos + 2] = 3; // minor = 3
  });
  rejects(() => decode(needsNewer), 'unsupported-version', /min_reader_version: file needs a reader of format 1\.3/);
  const unknownOp = forge(tinyModel(), (bytes, root, bb) => {
    bytes[fieldPos(root.nodes(1)!, bb, 6)] = 200; // op_type
  });
  rejects(() => decode(unknownOp), 'unsupported-version', /nodes\[1\]\.op_type: unknown op tag 200/);
});

test('truncated buffers', () => {
  const bytes = encode(tinyModel());
  // (Cutting only the last few bytes may remove nothing but padding, which decodes fine.)
  for (const length of [8, 20, Math.floor(bytes.length / 2)]) {
    assert.throws(() => decode(bytes.subarray(0, length)), HnetFormatError, `length ${length}`);
  }
  rejects(() => decode(bytes.subarray(0, 40)), 'truncated', /runs past the end of the 40-byte buffer/);
});

test('K = 0 is refused when writing and when reading', () => {
  const model = tinyModel();
  const fc = model.nodes[0].op as Extract<Model['nodes'][0]['op'], { type: 'Dense' }>;
  fc.weight = { shape: [3, 4], hash: { algorithm: 'xxh32', bucketSeed: 1, signSeed: 2 }, values: { dtype: 'float32', data: new Float32Array(0) } };
  rejects(() => encode(model), 'invalid-field', /nodes\[0\] \(fc, Dense\)\.op\.weight\.values\.count: K = 0/);
  const zeroCount = forge(tinyModel(), (bytes, root, bb) => {
    bytes.fill(0, fieldPos(firstValues(root), bb, 6), fieldPos(firstValues(root), bb, 6) + 4);
  });
  rejects(() => decode(zeroCount), 'invalid-field', /nodes\[0\]\.op\.weight\.values\.count: K = 0/);
});

test('a value array of the wrong length', () => {
  const wrongCount = forge(tinyModel(), (bytes, root, bb) => {
    bytes[fieldPos(firstValues(root), bb, 6)] = 11; // count 12 → 11
  });
  rejects(() => decode(wrongCount), 'invalid-field', /nodes\[0\]\.op\.weight\.values\.data: holds 48 bytes but count 11 of Float32 needs 44/);
  const model = tinyModel();
  (model.nodes[0].op as { weight: unknown }).weight = plainWeight(new Float32Array(10), [3, 4]);
  rejects(() => encode(model), 'invalid-field', /weight\.values\.count: a plain weight of shape \[3, 4\] needs 12 values, got 10/);
});

test('a node that names a missing tensor', () => {
  const model = tinyModel();
  model.nodes[1].inputs = ['nowhere'];
  rejects(() => validateModel(model), 'graph', /nodes\[1\] \(act, Relu\)\.inputs\[0\]: tensor "nowhere" is not produced/);
  const badIndex = forge(tinyModel(), (bytes, root, bb) => {
    const node = root.nodes(1)!;
    bytes[node.bb_pos + bb.__offset(node.bb_pos, 10) + bb.readInt32(node.bb_pos + bb.__offset(node.bb_pos, 10)) + 4] = 77;
  });
  rejects(() => decode(badIndex), 'invalid-field', /nodes\[1\]\.inputs\[0\]: tensor index 77 is out of range/);
});

test('shape mismatches name the node and both shapes', () => {
  const model = tinyModel();
  model.inputs[0].shape = [-1, 5];
  rejects(() => validateModel(model), 'shape', /nodes\[0\] \(fc, Dense\): input \[N, 5\] does not match weight \[3, 4\]/);
  const wrongOutput = tinyModel();
  wrongOutput.outputs[0].shape = [-1, 7];
  rejects(() => encode(wrongOutput), 'shape', /outputs\[0\]\.shape: declared \[-1, 7\] but the graph computes \[-1, 3\]/);
  const conv = randomModel(1);
  conv.inputs[0].shape = [-1, 3, 6, 6];
  rejects(() => validateModel(conv), 'shape', /conv1, Conv2D\): input has 3 channels/);
});

test('a cycle is reported with its nodes', () => {
  const model = tinyModel();
  model.nodes[0].inputs = ['y']; // fc reads act's output, act reads fc's output
  rejects(() => validateModel(model), 'graph', /the graph has a cycle: nodes\[0\] \(fc, Dense\) -> nodes\[1\] \(act, Relu\) -> nodes\[0\]/);
});

test('a tensor produced twice, and out-of-order nodes', () => {
  const twice = tinyModel();
  twice.nodes[1].outputs = ['h'];
  rejects(() => validateModel(twice), 'graph', /tensor "h" is already produced by nodes\[0\]/);
  const outOfOrder = tinyModel();
  outOfOrder.nodes.reverse();
  rejects(() => validateModel(outOfOrder), 'graph', /produced later, by nodes\[1\] \(fc, Dense\); nodes must be in topological order/);
});

test('field values the spec forbids', () => {
  const model = randomModel(2);
  (model.nodes[0].op as { group: number }).group = 3;
  rejects(() => validateModel(model), 'invalid-field', /conv1, Conv2D\)\.op\.group: group 3 must be >= 1 and divide/);
  const int8 = tinyModel();
  (int8.nodes[0].op as { weight: unknown }).weight = { shape: [3, 4], hash: null, values: { dtype: 'int8', data: new Int8Array(12), scale: 0 } };
  rejects(() => encode(int8), 'invalid-field', /values\.scale: int8 scale must be finite and > 0/);
  const seed = tinyModel();
  (seed.nodes[0].op as { weight: unknown }).weight = { shape: [3, 4], hash: { algorithm: 'xxh32', bucketSeed: -1, signSeed: null }, values: { dtype: 'float32', data: new Float32Array(2) } };
  rejects(() => encode(seed), 'invalid-field', /hash\.bucket_seed: must be a uint32/);
});

test('readVersions reports a newer file without refusing it, and refuses what is not .hnet', () => {
  const newer = forge(tinyModel(), (bytes, root) => {
    bytes[root.formatVersion()!.bb_pos] = 2;
    bytes[root.minReaderVersion()!.bb_pos] = 2;
  });
  assert.deepStrictEqual(readVersions(newer), { format: { major: 2, minor: 2 }, minReader: { major: 2, minor: 0 } });
  assert.deepStrictEqual(readVersions(encode(tinyModel())), { format: { major: 1, minor: 2 }, minReader: { major: 1, minor: 0 } });
  rejects(() => readVersions(new TextEncoder().encode('not a model at all')), 'bad-identifier', /not an \.hnet file/);
});

test('caps (limits.ts): a model built in memory that asks for too much is refused before any allocation, naming the node', () => {
  const huge = (op: Model['nodes'][number]['op'], x: number[], y: number[]): Model => ({
    inputs: [{ name: 'x', shape: x }], outputs: [{ name: 'y', shape: y }], nodes: [{ name: 'big', op, inputs: ['x'], outputs: ['y'] }], metadata: {},
  });
  const conv = (pads: [number, number, number, number]) => ({ type: 'Conv2D' as const, weight: plainWeight(new Float32Array(9), [1, 1, 3, 3]), bias: null, strides: [1, 1] as [number, number], pads, dilations: [1, 1] as [number, number], group: 1 });
  const zeros = (shape: number[]) => ({ x: { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) } });
  const cases: [string, Model, number[], RegExp][] = [
    ['a 2^32-element hashed weight', huge({ type: 'Dense', weight: { shape: [65536, 65536], hash: { algorithm: 'xxh32', bucketSeed: 1, signSeed: null }, values: { dtype: 'float32', data: new Float32Array(1) } }, bias: null }, [-1, 65536], [-1, 65536]), [1, 65536], /nodes\[0\] \(big, Dense\)\.op\.weight\.shape: .*more than the cap of 2\^28/],
    ['pads 8191', huge(conv([8191, 8191, 8191, 8191]), [-1, 1, 8, 8], [-1, 1, 16388, 16388]), [1, 1, 8, 8], /nodes\[0\] \(big, Conv2D\): output .* more than the cap of 2\^28/],
    ['pads 2^30', huge(conv([2 ** 30, 0, 0, 0]), [-1, 1, 8, 8], [-1, 1, -1, 6]), [1, 1, 8, 8], /pads\[0\]: 1073741824 is above the cap of 2\^28/],
    ['a 4096 window', huge({ type: 'MaxPool', kernel: [4096, 4096], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false }, [-1, 1, 8192, 8192], [-1, 1, 4097, 4097]), [1, 1, 1, 1], /nodes\[0\] \(big, MaxPool\): the model needs more than 2\^36 multiply-adds per example/],
  ];
  for (const [what, model, inputShape, message] of cases) {
    rejects(() => validateModel(model), 'limit', message);
    rejects(() => encode(model), 'limit', message);
    // runReference validates first; the input is tiny, so nothing big is ever allocated.
    const before = process.memoryUsage().rss;
    rejects(() => runReference(model, zeros(inputShape)), 'limit', message);
    assert.ok(process.memoryUsage().rss - before < 64 << 20, what);
  }
});

test('an output listed twice, an input with two -1s, and K above the virtual size are refused', () => {
  const twice = tinyModel();
  twice.outputs.push({ name: 'y', shape: [-1, 3] });
  rejects(() => validateModel(twice), 'graph', /outputs\[1\]: tensor "y" is listed twice/);
  const twoBatches = tinyModel();
  twoBatches.inputs[0].shape = [-1, -1];
  rejects(() => validateModel(twoBatches), 'invalid-field', /inputs\[0\]\.shape: \[-1, -1\] has more than one -1/);
  const overfull = tinyModel();
  const fc = overfull.nodes[0].op as Extract<Model['nodes'][number]['op'], { type: 'Dense' }>;
  fc.weight = { shape: [3, 4], hash: { algorithm: 'xxh32', bucketSeed: 1, signSeed: null }, values: { dtype: 'float32', data: new Float32Array(13) } };
  rejects(() => validateModel(overfull), 'invalid-field', /K = 13 exceeds the virtual size 12/);
});

test('weights that share one Values table decode to one array, and encode writes it once', () => {
  const model = tinyModel();
  const shared = plainWeight(new Float32Array(12).fill(0.25), [3, 4]).values;
  model.nodes = [
    { name: 'fc1', op: { type: 'Dense', weight: { shape: [3, 4], hash: null, values: shared }, bias: null }, inputs: ['x'], outputs: ['h1'] },
    { name: 'fc2', op: { type: 'Dense', weight: { shape: [3, 4], hash: null, values: shared }, bias: null }, inputs: ['x'], outputs: ['y'] },
  ];
  const bytes = encode(model);
  const decoded = decode(bytes);
  const [a, b] = decoded.nodes.map((n) => (n.op as Extract<Model['nodes'][number]['op'], { type: 'Dense' }>).weight.values);
  assert.equal(a, b);
  assert.deepEqual([...a.data], [...shared.data]);
  assert.equal(encode(decoded).length, bytes.length);
});
