// int4 stored values (format 1.1): the runtime's SIMD decoder and its naive
// twin against @hnet/format's unpacking, and the loader's checks of int4 data.
// The forward pass with int4 weights is covered by parity.test.ts (DTYPES).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { encode, packInt4, unpackInt4, type Model } from '@hnet/format';
import { loadModel } from '../src/index.js';
import { copyIn, rawInstance } from './helpers.js';

const DT_INT4 = 3;

it('decodes every byte of int4 pairs, SIMD and naive alike, at every length around the 16-value step', async () => {
  const x = await rawInstance();
  const scale = Math.fround(0.37);
  // Every byte whose nibbles are in [-7, 7], repeated to 300 values.
  const q = Int8Array.from({ length: 300 }, (_, i) => (((i * 7) % 15) - 7));
  const packed = packInt4(q);
  const src = copyIn(x, packed);
  const dst = x.hnet_alloc((q.length + 1) * 4); // one float more, to catch a write past the end
  for (const count of [1, 2, 15, 16, 17, 31, 32, 33, 255, 300]) {
    const expected = Float32Array.from(unpackInt4(packed, count), (v) => Math.fround(scale * v));
    for (const simd of [0, 1]) {
      new Uint8Array(x.memory.buffer, dst, (q.length + 1) * 4).fill(0xff);
      x.hnet_decode_values(src, DT_INT4, scale, count, dst, simd);
      const got = new Float32Array(x.memory.buffer, dst, count);
      assert.deepStrictEqual([...got], [...expected], `count ${count}, simd ${simd}`);
      assert.equal(new Uint8Array(x.memory.buffer, dst + count * 4, 1)[0], 0xff, `count ${count}, simd ${simd}: wrote past the end`);
    }
  }
  x.hnet_free(src);
  x.hnet_free(dst);
});

it('refuses int4 data holding -8 or a set unused nibble, naming the value, as @hnet/format does', async () => {
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 3] }], outputs: [{ name: 'y', shape: [-1, 2] }],
    nodes: [{ name: 'fc', op: { type: 'Dense', weight: { shape: [2, 3], hash: null, values: { dtype: 'int4', data: Int8Array.from([1, 2, 3, 4, 5, 6]), scale: 1 } }, bias: null }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
  const bytes = encode(model);
  const at = Buffer.from(bytes).indexOf(Buffer.from(packInt4(Int8Array.from([1, 2, 3, 4, 5, 6]))));
  assert.ok(at > 0);
  bytes[at + 1] = 0x84; // element 3 = 0x8 = -8
  await assert.rejects(loadModel(bytes), /fc.*int4 value 3 is -8/);
  // Five values: the high nibble of the third byte is unused and must be 0.
  const odd: Model = { ...model, inputs: [{ name: 'x', shape: [-1, 5] }], outputs: [{ name: 'y', shape: [-1, 1] }] };
  odd.nodes = [{ ...model.nodes[0], op: { type: 'Dense', weight: { shape: [1, 5], hash: null, values: { dtype: 'int4', data: Int8Array.from([1, 2, 3, 4, 5]), scale: 1 } }, bias: null } }];
  const oddBytes = encode(odd);
  const oddAt = Buffer.from(oddBytes).indexOf(Buffer.from(packInt4(Int8Array.from([1, 2, 3, 4, 5]))));
  assert.ok(oddAt > 0);
  oddBytes[oddAt + 2] |= 0x10;
  await assert.rejects(loadModel(oddBytes), /fc.*the unused high nibble after int4 value 4 must be 0/);
});
