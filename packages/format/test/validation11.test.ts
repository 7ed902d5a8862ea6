// The fields of format 1.1's ops: each invalid value is refused by encode (validate)
// and, written anyway, by decode, with an error that names the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckedByteBuffer } from '../src/codec/checked-byte-buffer.js';
import * as fb from '../src/generated/hnet_generated.js';
import {
  decode, encode, HnetFormatError, inferOpShape, plainWeight, RESIZE_COORDINATES, RESIZE_MODES, RESIZE_NEAREST, validateModel,
  type FormatErrorCode, type Model, type Op, type Weight,
} from '../src/index.js';
import { encodeUnvalidated } from '../src/testing.js';

function rejects(run: () => unknown, code: FormatErrorCode, message: RegExp, what = ''): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof HnetFormatError, `${what}: expected HnetFormatError, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    assert.match(e.message, message, what);
    return true;
  }, what);
}

/** A one-node model over inputs x0, x1, ... of the given shapes; the output is declared as the shape the op computes (or [1] when it cannot). */
function oneNode(op: Op, ...shapes: number[][]): Model {
  const names = shapes.map((_, i) => `x${i}`);
  let out: number[];
  try {
    out = inferOpShape('test', op, shapes);
  } catch {
    out = [1];
  }
  return {
    inputs: shapes.map((shape, i) => ({ name: names[i], shape })),
    outputs: [{ name: 'y', shape: out }],
    nodes: [{ name: 'n', op, inputs: names, outputs: ['y'] }],
    metadata: {},
  };
}

const ones = (shape: number[]): Weight => plainWeight(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
const convT = (extra: Partial<Extract<Op, { type: 'ConvTranspose' }>>): Op => ({
  type: 'ConvTranspose', weight: ones([4, 1, 2, 2]), bias: null, strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0], group: 1, ...extra,
});
const resize = (scales: number[]): Op => ({ type: 'Resize', mode: 'linear', coordinates: 'half_pixel', nearest: 'floor', scales: scales as [number, number] });

/** [what is wrong, the model, the field and message both encode and decode give]. */
const BOTH_WAYS: [string, Model, RegExp][] = [
  ['a perm that is not a permutation', oneNode({ type: 'Transpose', perm: [0, 0] }, [-1, 3]), /op\.perm: \[0, 0\] is not a permutation of 0\.\.1/],
  ['a repeated reduce axis', oneNode({ type: 'ReduceSum', axes: [1, 1], keepdims: true }, [-1, 3]), /op\.axes\[1\]: axis 1 is listed twice/],
  ['a Slice step of 0', oneNode({ type: 'Slice', starts: [0], ends: [2], axes: [1], steps: [0] }, [-1, 3]), /op\.steps\[0\]: a step of 0 never advances/],
  ['Slice lists of other lengths', oneNode({ type: 'Slice', starts: [0], ends: [2, 3], axes: [1], steps: [1] }, [-1, 3]), /op\.ends: has 2 entries but starts has 1/],
  ['a Clip bound that is not finite', oneNode({ type: 'Clip', min: -Infinity, max: 6 }, [-1, 3]), /op\.min: must be finite, got -Infinity/],
  ['a HardSigmoid alpha of NaN', oneNode({ type: 'HardSigmoid', alpha: NaN, beta: 0.5 }, [-1, 3]), /op\.alpha: must be finite, got NaN/],
  ['an infinite Pow exponent', oneNode({ type: 'Pow', exponent: Infinity }, [-1, 3]), /op\.exponent: must be finite/],
  ['a negative pad', oneNode({ type: 'Pad', pads: [0, -1, 0, 0], value: 0 }, [-1, 3]), /op\.pads\[1\]: expected an integer >= 0, got -1/],
  ['an odd number of pads', oneNode({ type: 'Pad', pads: [0, 1, 1], value: 0 }, [-1, 3]), /op\.pads: needs \[begins\.\.\., ends\.\.\.\], an even number of entries >= 2, got 3/],
  ['a Resize scale of 0', oneNode(resize([0, 2]), [-1, 1, 4, 4]), /op\.scales\[0\]: must be finite and > 0, got 0/],
  ['three Resize scales', oneNode(resize([1, 2, 2]), [-1, 1, 4, 4]), /op\.scales: expected \[scale_h, scale_w\], got 3 values/],
  ['output padding as large as the stride', oneNode(convT({ outputPadding: [2, 0] }), [-1, 4, 3, 3]), /op\.output_padding\[0\]: 2 must be smaller than the stride 2 or the dilation 1/],
  ['a ConvTranspose group that does not divide C', oneNode(convT({ group: 3 }), [-1, 4, 3, 3]), /op\.group: group 3 must be >= 1 and divide the 4 input channels/],
  ['a ConvTranspose bias of the wrong size', oneNode(convT({ bias: ones([4]) }), [-1, 4, 3, 3]), /op\.bias\.shape: bias \[4\] does not match 1 output channels/],
  ['a negative LayerNorm epsilon', oneNode({ type: 'LayerNorm', axis: -1, epsilon: -1, scale: ones([3]), bias: null }, [-1, 3]), /op\.epsilon: must be finite and >= 0, got -1/],
  ['a LayerNorm bias unlike its scale', oneNode({ type: 'LayerNorm', axis: -1, epsilon: 1e-5, scale: ones([3]), bias: ones([2]) }, [-1, 3]), /op\.bias\.shape: bias \[2\] does not match scale \[3\]/],
  ['a Squeeze without axes', oneNode({ type: 'Squeeze', axes: [] }, [-1, 1]), /op\.axes: needs at least one axis/],
  ['an Unsqueeze axis twice', oneNode({ type: 'Unsqueeze', axes: [0, 0] }, [-1, 1]), /op\.axes\[1\]: axis 0 is listed twice/],
  ['an Expand size below -1', oneNode({ type: 'Expand', shape: [-2, 3] }, [-1, 3]), /op\.shape\[0\]: expected -1 \(the batch\) or a size >= 1, got -2/],
  ['an Expand with two -1', oneNode({ type: 'Expand', shape: [-1, -1] }, [-1, 3]), /op\.shape: \[-1, -1\] has more than one -1/],
  ['an Expand -1 without a batch', oneNode({ type: 'Expand', shape: [-1, 3] }, [2, 3]), /op\.shape: -1 stands for the batch size, but no graph input has a batch dimension/],
  ['an xxh32-block block of 33', oneNode({ type: 'Constant', value: { shape: [2, 40], hash: { algorithm: 'xxh32-block', bucketSeed: 1, signSeed: 2, block: 33 }, values: { dtype: 'float32', data: new Float32Array(8) } } }), /op\.value\.hash\.block: xxh32-block needs a block of 1\.\.32 columns, got 33/],
  ['an int4 value of 8', oneNode({ type: 'LayerNorm', axis: -1, epsilon: 1e-5, scale: { shape: [3], hash: null, values: { dtype: 'int4', data: Int8Array.from([1, 8, 0]), scale: 1 } }, bias: null }, [-1, 3]), /op\.scale\.values\.data: int4 value 1 is -?8/],
];

test('invalid fields of the 1.1 ops are refused by encode and, written anyway, by decode', () => {
  for (const [what, model, message] of BOTH_WAYS) {
    const input = model.inputs.length ? model : { ...model, inputs: [{ name: 'unused', shape: [1] }] };
    rejects(() => encode(input), 'invalid-field', message, `encode, ${what}`);
    rejects(() => decode(encodeUnvalidated(input)), 'invalid-field', message, `decode, ${what}`);
  }
});

test('fields that only the model can get wrong: an empty reduce axes list, an int32 axis out of range, a Constant of rank 0', () => {
  // In the file, no axes vector is null (all axes): [] would not round-trip.
  rejects(() => validateModel(oneNode({ type: 'ReduceMean', axes: [], keepdims: true }, [-1, 3])), 'invalid-field', /op\.axes: needs at least one axis/);
  rejects(() => validateModel(oneNode({ type: 'Concat', axis: 2 ** 40 }, [-1, 3])), 'invalid-field', /op\.axis: must be an int32, got 1099511627776/);
  const scalar: Model = { ...oneNode({ type: 'Constant', value: { shape: [], hash: null, values: { dtype: 'float32', data: new Float32Array(1) } } }), inputs: [{ name: 'unused', shape: [1] }], outputs: [{ name: 'y', shape: [1] }] };
  rejects(() => validateModel(scalar), 'invalid-field', /op\.value\.shape: a weight needs at least one dimension/);
  // A Slice start beyond ±2^53: the model says so, the file's int64 is refused as it is read.
  const far = oneNode({ type: 'Slice', starts: [2 ** 60], ends: [3], axes: [1], steps: [1] }, [-1, 3]);
  rejects(() => validateModel(far), 'invalid-field', /op\.starts\[0\]: must be an integer within ±2\^53/);
  rejects(() => decode(encodeUnvalidated(far)), 'invalid-field', /op\.starts\[0\]: 1152921504606846976 is out of range/);
});

/** Patches bytes of an encoded file through the generated reader, for what no model can express. */
function forge(model: Model, patch: (bytes: Uint8Array, node: fb.Node, bb: CheckedByteBuffer) => void): Uint8Array {
  const bytes = encode(model);
  const bb = new CheckedByteBuffer(bytes);
  patch(bytes, fb.Model.getRootAsModel(bb).nodes(0)!, bb);
  return bytes;
}
const fieldPos = (table: { bb_pos: number }, bb: CheckedByteBuffer, vtableOffset: number): number => table.bb_pos + bb.__offset(table.bb_pos, vtableOffset);

test('what only a forged file holds: an unknown Resize mode, a block on a plain xxh32 spec, a used int4 padding nibble', () => {
  const linear = oneNode(resize([2, 2]), [-1, 1, 2, 2]);
  const unknownMode = forge(linear, (bytes, node, bb) => {
    bytes[fieldPos(node.op(new fb.Resize())!, bb, 4)] = 7; // mode, stored because Linear is not the default
  });
  rejects(() => decode(unknownMode), 'unsupported-version', /nodes\[0\]\.op\.mode: unknown value 7 \(this reader knows nearest, linear\); the file may need a newer hnet/);

  const blockSpec = { algorithm: 'xxh32-block', bucketSeed: 1, signSeed: 2, block: 4 } as const;
  const blocked = oneNode({ type: 'Constant', value: { shape: [2, 8], hash: blockSpec, values: { dtype: 'float32', data: new Float32Array(4).fill(1) } } });
  blocked.inputs = [{ name: 'unused', shape: [1] }];
  const decoded = decode(encode(blocked)).nodes[0].op;
  assert.ok(decoded.type === 'Constant');
  assert.deepStrictEqual(decoded.value.hash, blockSpec);
  const plainWithBlock = forge(blocked, (bytes, node, bb) => {
    const spec = node.op(new fb.Constant())!.value()!.hash()!;
    bytes[fieldPos(spec, bb, 4)] = fb.HashAlgorithm.XXH32;
  });
  rejects(() => decode(plainWithBlock), 'invalid-field', /op\.value\.hash\.block: 4 is set, but block is only for xxh32-block/);

  const odd = oneNode({ type: 'LayerNorm', axis: -1, epsilon: 1e-5, scale: { shape: [3], hash: null, values: { dtype: 'int4', data: Int8Array.from([1, -2, 3]), scale: 0.5 } }, bias: null }, [-1, 3]);
  const dirty = forge(odd, (_bytes, node) => {
    const data = node.op(new fb.LayerNorm())!.scale()!.values()!.dataArray()!;
    assert.equal(data.length, 2);
    data[1] |= 0x50; // the high nibble after the third value
  });
  rejects(() => decode(dirty), 'invalid-field', /op\.scale\.values\.data: the unused high nibble after int4 value 2 must be 0/);
});

test('the work cap counts MatMul by K, ConvTranspose by its kernel per input, reductions by their input', () => {
  // Each stays within the element cap (2^28 per tensor) but asks for more than 2^36 multiply-adds.
  rejects(() => validateModel(oneNode({ type: 'MatMul' }, [-1, 16384, 16384], [-1, 16384, 16384])), 'limit', /more than 2\^36 multiply-adds/);
  rejects(() => validateModel(oneNode(convT({ weight: ones([1, 1, 64, 64]), strides: [1, 1] }), [-1, 1, 8192, 8192])), 'limit', /more than 2\^36 multiply-adds/);
  // 300 reductions of one 2^28 tensor to a single value: each reads it all.
  const reductions: Model = {
    inputs: [{ name: 'x', shape: [1, 2 ** 28] }],
    outputs: [{ name: 'r0', shape: [1, 1] }],
    nodes: Array.from({ length: 300 }, (_, i) => ({ name: `r${i}`, op: { type: 'ReduceMax', axes: null, keepdims: true } as Op, inputs: ['x'], outputs: [`r${i}`] })),
    metadata: {},
  };
  rejects(() => validateModel(reductions), 'limit', /nodes\[256\] \(r256, ReduceMax\): the model needs more than 2\^36/);
});

test('a graph whose shapes fit at batch 1 but not at batch 2 is refused, naming the node and the batch', () => {
  const fixedBatch = oneNode({ type: 'Reshape', shape: [1, 3] }, [-1, 3]);
  rejects(() => validateModel(fixedBatch), 'shape', /nodes\[0\] \(n, Reshape\) at batch 2: cannot reshape \[2, 3\] to \[1, 3\]/);
});

test("Resize's enum names are in the schema's order (a name's index is its value in the file)", () => {
  // half_pixel → HalfPixel, the generated enum's member.
  const valueOf = (enumeration: Record<string, string | number>, name: string): unknown => enumeration[name.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase())];
  assert.deepStrictEqual(RESIZE_MODES.map((name) => valueOf(fb.ResizeMode, name)), [0, 1]);
  assert.deepStrictEqual(RESIZE_COORDINATES.map((name) => valueOf(fb.ResizeCoordinates, name)), [0, 1, 2, 3]);
  assert.deepStrictEqual(RESIZE_NEAREST.map((name) => valueOf(fb.ResizeNearest, name)), [0, 1, 2, 3]);
});

test('the work cap counts a global pool by its input (many pools over one large tensor)', () => {
  // 300 GlobalAveragePools of one 2^28-element image: each has one output per channel but reads it all.
  const pools: Model = {
    inputs: [{ name: 'x', shape: [1, 1, 16384, 16384] }],
    outputs: [{ name: 'p0', shape: [1, 1, 1, 1] }],
    nodes: Array.from({ length: 300 }, (_, i) => ({ name: `p${i}`, op: { type: i % 2 ? 'GlobalMaxPool' : 'GlobalAveragePool' } as Op, inputs: ['x'], outputs: [`p${i}`] })),
    metadata: {},
  };
  rejects(() => validateModel(pools), 'limit', /nodes\[256\] \(p256, GlobalAveragePool\): the model needs more than 2\^36/);
  assert.doesNotThrow(() => validateModel({ ...pools, nodes: pools.nodes.slice(0, 200) }));
});
