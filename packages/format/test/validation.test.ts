// Each way a file or model can be invalid gives a HnetFormatError whose code
// and message name the problem and the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckedByteBuffer } from '../src/codec/checked-byte-buffer.js';
import * as fb from '../src/generated/hnet_generated.js';
import { decode, encode, HnetFormatError, plainWeight, readVersions, validateModel, type FormatErrorCode, type Model } from '../src/index.js';
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
  rejects(() => decode(newerMajor), 'unsupported-version', /format_version: file is format 2\.0 but this reader supports 1\.0; upgrade hnet/);
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
  assert.deepStrictEqual(readVersions(newer), { format: { major: 2, minor: 0 }, minReader: { major: 2, minor: 0 } });
  assert.deepStrictEqual(readVersions(encode(tinyModel())), { format: { major: 1, minor: 0 }, minReader: { major: 1, minor: 0 } });
  rejects(() => readVersions(new TextEncoder().encode('not a model at all')), 'bad-identifier', /not an \.hnet file/);
});
