// The .wasm through its raw ABI, as a host without JavaScript glue would use
// it: WebAssembly.instantiate with no imports, bytes copied into linear
// memory, numbers in and out. Also: no allocation per inference, the memory
// budget and mode choice, and error reporting.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HnetFormatError, Model } from '@hnet/format';
import { encodeUnvalidated } from '@hnet/format/testing';
import { decode, encode, runReference, sizeOf } from '@hnet/format';
import { HnetRuntimeError, loadModel } from '../src/index.js';
import { assertClose, copyIn, lastErrorMessage, rawInstance, wasmBytes } from './helpers.js';
import { mlpModel, randomArray, randomModel, randomModel11, rng } from './models.js';

describe('raw ABI', () => {
  it('needs no imports', () => {
    const module = new WebAssembly.Module(wasmBytes());
    assert.deepEqual(WebAssembly.Module.imports(module), []);
    const names = WebAssembly.Module.exports(module).map((e) => e.name);
    for (const name of ['memory', 'hnet_alloc', 'hnet_free', 'hnet_load', 'hnet_set_input', 'hnet_run', 'hnet_output_ptr', 'hnet_output_len', 'hnet_last_error_ptr', 'hnet_last_error_len', 'hnet_unload']) {
      assert.ok(names.includes(name), `exports ${name}`);
    }
  });

  it('loads, runs and reads outputs with plain numbers', async () => {
    const x = await rawInstance();
    const model = randomModel(11);
    const bytes = encode(model);
    const ptr = copyIn(x, bytes);
    const h = x.hnet_load(ptr, bytes.length, 0, 0);
    assert.ok(h > 0, lastErrorMessage(x));
    x.hnet_free(ptr);
    assert.equal(x.hnet_input_count(h), 1);
    assert.equal(x.hnet_output_count(h), 1);
    const name = new TextDecoder().decode(new Uint8Array(x.memory.buffer, x.hnet_input_name_ptr(h, 0), x.hnet_input_name_len(h, 0)));
    assert.equal(name, 'x');
    const rank = x.hnet_input_rank(h, 0);
    const declared = Array.from({ length: rank }, (_, d) => x.hnet_input_dim(h, 0, d));
    assert.deepEqual(declared, model.inputs[0].shape);

    const batch = 3;
    const shape = declared.map((d) => (d === -1 ? batch : d));
    const data = randomArray(rng(1), sizeOf(shape));
    const len = x.hnet_input_len(h, 0, batch);
    assert.equal(len, data.length);
    const inPtr = copyIn(x, new Uint8Array(data.buffer));
    assert.equal(x.hnet_set_input(h, 0, inPtr, batch), 0, lastErrorMessage(x));
    x.hnet_free(inPtr);
    assert.equal(x.hnet_run(h, batch), 0, lastErrorMessage(x));
    const out = new Float32Array(x.memory.buffer, x.hnet_output_ptr(h, 0), x.hnet_output_len(h, 0)).slice();
    const outShape = Array.from({ length: x.hnet_output_rank(h, 0) }, (_, d) => x.hnet_output_shape_dim(h, 0, d));
    const expected = runReference(model, { x: { shape, data } })[model.outputs[0].name];
    assertClose({ shape: outShape, data: out }, expected, 'raw ABI');
    x.hnet_unload(h);
    assert.equal(x.hnet_run(h, batch), 1, 'a stale handle is an argument error');
    assert.match(lastErrorMessage(x), /not a loaded model/);
  });

  it('reports bad arguments as errors, never traps', async () => {
    const x = await rawInstance();
    assert.equal(x.hnet_load(0, 10, 0, 0), 0);
    assert.equal(x.hnet_last_error_code(), 1);
    assert.equal(x.hnet_load(16, 0x7fffffff, 0, 0), 0);
    assert.equal(x.hnet_last_error_code(), 1);
    assert.equal(x.hnet_alloc(0), 0);
    assert.equal(x.hnet_alloc(0xffffffff), 0);
    assert.equal(x.hnet_last_error_code(), 8);
    const bytes = encode(mlpModel(1, [4, 3]));
    const ptr = copyIn(x, bytes);
    const h = x.hnet_load(ptr, bytes.length, 0, 7);
    assert.equal(h, 0);
    assert.match(lastErrorMessage(x), /mode 7/);
    const ok = x.hnet_load(ptr, bytes.length, 0, 0);
    assert.ok(ok > 0);
    assert.equal(x.hnet_prepare(ok, 0), 1);
    assert.equal(x.hnet_input_len(ok, 5, 1), -1);
    assert.equal(x.hnet_set_input(ok, 0, x.memory.buffer.byteLength - 4, 1), 1);
    assert.match(lastErrorMessage(x), /not inside linear memory/);
    assert.equal(x.hnet_run(ok, 2), 1, 'run before set_input for that batch');
    assert.equal(x.hnet_output_ptr(ok, 3), 0);
    assert.equal(x.hnet_input_rank(99, 0), -1);
    assert.equal(x.hnet_last_error_code(), 1);
  });
});

describe('no allocation per inference', () => {
  for (const [mode, name, model] of [
    ['materialized', 'format 1.0 ops', randomModel(21)], ['streaming', 'format 1.0 ops', randomModel(21)],
    ['materialized', 'format 1.1 ops', randomModel11(21)], ['streaming', 'format 1.1 ops', randomModel11(21)],
  ] as const) {
    it(`${mode}, ${name}: memory size, arena address and heap top are unchanged across 200 runs`, async () => {
      const m = await loadModel(encode(model), { mode });
      const { exports: x, handle } = m.abi;
      const input = randomArray(rng(2), sizeOf(model.inputs[0].shape.slice(1)) * 8);
      const batch = Array.from({ length: 8 }, (_, i) => input.subarray(i * input.length / 8, (i + 1) * input.length / 8));
      const first = m.run(batch);
      const arena = x.hnet_arena_ptr(handle);
      const bytes = x.memory.buffer.byteLength;
      // The next free heap block: a run that allocated (and leaked) would move it.
      const probe = x.hnet_alloc(16);
      x.hnet_free(probe);
      for (let i = 0; i < 200; i++) {
        assert.equal(x.hnet_run(handle, 8), 0);
      }
      assert.equal(x.hnet_arena_ptr(handle), arena);
      assert.equal(x.memory.buffer.byteLength, bytes);
      const probe2 = x.hnet_alloc(16);
      assert.equal(probe2, probe, 'heap unchanged');
      x.hnet_free(probe2);
      const again = m.run(batch);
      assert.deepEqual(again, first, 'same inputs, same outputs');
      m.dispose();
    });
  }
});

describe('memory budget and modes', () => {
  const model: Model = mlpModel(9, [784, 1000, 10], { dtype: 'float32', hashed: true }, 64);
  const bytes = encode(model);
  const denseBytes = (784 * 1000 + 1000 * 10) * 4;

  it('auto picks materialized when it fits, streaming when it does not', async () => {
    const big = await loadModel(bytes);
    assert.equal(big.info.mode, 'materialized');
    assert.ok(big.info.memory.weights >= denseBytes);
    const small = await loadModel(bytes, { memoryBudget: 1 << 20 });
    assert.equal(small.info.mode, 'streaming');
    assert.ok(small.info.memory.weights < denseBytes / 32, `streaming weights ${small.info.memory.weights} bytes`);
    const x = randomArray(rng(3), 784 * 5);
    const input = { x: { shape: [5, 784], data: x } };
    assertClose(small.run(input)[model.outputs[0].name], big.run(input)[model.outputs[0].name], 'streaming vs materialized');
    big.dispose();
    small.dispose();
  });

  it('refuses a budget that nothing fits, naming both sizes', async () => {
    await assert.rejects(loadModel(bytes, { memoryBudget: 10_000 }), (e: HnetRuntimeError) => {
      assert.equal(e.codeName, 'budget');
      assert.match(e.message, /materialized \d+, streaming \d+/);
      return true;
    });
    await assert.rejects(loadModel(bytes, { memoryBudget: 1 << 20, mode: 'materialized' }), /budget/);
  });

  it('refuses a batch whose activations exceed the budget', async () => {
    const m = await loadModel(bytes, { memoryBudget: 1 << 20 });
    assert.throws(() => m.run({ x: { shape: [4096, 784], data: new Float32Array(4096 * 784) } }), /over the memory budget/);
    // and still runs a batch that fits
    assert.equal(m.run(new Float32Array(784))[model.outputs[0].name].data.length, 10);
    m.dispose();
  });
});

describe('errors name what is wrong', () => {
  const bytes = encode(mlpModel(1, [4, 3]));
  it('not an .hnet file', async () => {
    const bad = bytes.slice();
    bad[4] = 'X'.charCodeAt(0);
    await assert.rejects(loadModel(bad), (e: HnetRuntimeError) => e.codeName === 'identifier' && /HNET/.test(e.message));
    await assert.rejects(loadModel(new Uint8Array(3)), (e: HnetRuntimeError) => e.codeName === 'identifier');
  });
  it('a newer major version', async () => {
    // format_version is the first field of the root table: find it through the vtable.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const root = view.getUint32(0, true);
    const vtable = root - view.getInt32(root, true);
    const bad = bytes.slice();
    new DataView(bad.buffer).setUint16(root + view.getUint16(vtable + 4, true), 2, true);
    await assert.rejects(loadModel(bad), (e: HnetRuntimeError) => e.codeName === 'version' && /major version/.test(e.message));
  });
  it('an xxh32-block hash with a block outside 1..32', async () => {
    for (const block of [0, 33]) {
      const model = mlpModel(1, [40, 3], { hashed: true, block: 4 });
      const fc = model.nodes[0].op as { weight: { hash: { block: number } } };
      fc.weight.hash.block = block;
      await assert.rejects(loadModel(encodeUnvalidated(model)),
        (e: HnetRuntimeError) => e.codeName === 'invalid' && new RegExp(`weight\\.hash\\.block = ${block}: xxh32-block needs a block of 1\\.\\.32`).test(e.message));
    }
  });
  it('an xxh32-aligned-block hash with a block that is not 4, 8, .., 64', async () => {
    for (const block of [0, 2, 6, 68]) {
      const model = mlpModel(1, [40, 3], { hashed: true, block: 4, aligned: true });
      const fc = model.nodes[0].op as { weight: { hash: { block: number } } };
      fc.weight.hash.block = block;
      await assert.rejects(loadModel(encodeUnvalidated(model)),
        (e: HnetRuntimeError) => e.codeName === 'invalid' && new RegExp(`weight\\.hash\\.block = ${block}: xxh32-aligned-block needs a block of 4, 8, \\.\\., 64`).test(e.message));
    }
  });
  it('a wrong-sized input', async () => {
    const m = await loadModel(bytes);
    assert.throws(() => m.run(new Float32Array(5)), /needs 4/);
    m.dispose();
    assert.throws(() => m.run(new Float32Array(4)), /disposed/);
  });
});

describe('limits', () => {
  it('refuses a tiny file that asks for too much compute', async () => {
    // A hashed 1x1 convolution of 2^14 x 2^14 channels (one bucket) on a 64x64 image:
    // 2^28 virtual weights in a few hundred bytes, and 2^40 multiply-adds per example.
    const model: Model = {
      inputs: [{ name: 'x', shape: [-1, 16384, 64, 64] }],
      outputs: [{ name: 'y', shape: [-1, 16384, 64, 64] }],
      nodes: [{
        name: 'huge', inputs: ['x'], outputs: ['y'],
        op: { type: 'Conv2D', weight: { shape: [16384, 16384, 1, 1], hash: { algorithm: 'xxh32', bucketSeed: 1, signSeed: 2 }, values: { dtype: 'float32', data: new Float32Array(1) } }, bias: null, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 },
      }],
      metadata: {},
    };
    const bytes = encodeUnvalidated(model); // encode() refuses it too, with the same cap
    assert.ok(bytes.length < 1000);
    assert.throws(() => decode(bytes), (e: HnetFormatError) => e.code === 'limit' && /multiply-adds/.test(e.message));
    await assert.rejects(loadModel(bytes, { mode: 'streaming' }), (e: HnetRuntimeError) => e.codeName === 'memory' && /multiply-adds/.test(e.message));
  });
});

describe('under WASI', () => {
  it("instantiates with node:wasi's import object and runs (the module needs none of it)", async () => {
    const { WASI } = await import('node:wasi');
    const wasi = new WASI({ version: 'preview1', args: [], env: {} });
    const { instance } = await WebAssembly.instantiate(wasmBytes(), wasi.getImportObject() as WebAssembly.Imports);
    wasi.initialize(instance); // a reactor: no _start, the host calls the exports
    const x = instance.exports as unknown as import('../src/index.js').HnetExports;
    const model = mlpModel(8, [12, 5, 3]);
    const bytes = encode(model);
    const ptr = copyIn(x, bytes);
    const h = x.hnet_load(ptr, bytes.length, 0, 2);
    x.hnet_free(ptr);
    assert.ok(h > 0, lastErrorMessage(x));
    const input = randomArray(rng(8), 12 * 2);
    new Float32Array(x.memory.buffer, x.hnet_input_ptr(h, 0, 2), 24).set(input);
    assert.equal(x.hnet_run(h, 2), 0);
    const y = new Float32Array(x.memory.buffer, x.hnet_output_ptr(h, 0), x.hnet_output_len(h, 0)).slice();
    assertClose({ shape: [2, 3], data: y }, runReference(model, { x: { shape: [2, 12], data: input } })[model.outputs[0].name], 'WASI');
  });
});

describe('no leaks', () => {
  it('500 loads, runs and unloads (and 500 failed loads) leave linear memory where it was', async () => {
    const x = await rawInstance();
    const good = encode(randomModel(31));
    const bad = good.slice(0, good.length - 10);
    const cycle = (): void => {
      for (const bytes of [good, bad]) {
        const ptr = copyIn(x, bytes);
        const h = x.hnet_load(ptr, bytes.length, 0, 0);
        x.hnet_free(ptr);
        if (h > 0) {
          assert.equal(x.hnet_prepare(h, 3), 0);
          assert.equal(x.hnet_run(h, 3), 0);
          x.hnet_unload(h);
        }
      }
    };
    for (let i = 0; i < 20; i++) cycle();
    const settled = x.memory.buffer.byteLength;
    for (let i = 0; i < 500; i++) cycle();
    assert.equal(x.memory.buffer.byteLength, settled);
  });
});

describe('hostile geometry', () => {
  // A valid conv whose pads, strides and dilations are unique marker values,
  // then the markers overwritten in the bytes with absurd numbers (which
  // encode() would refuse to write): each file must give an error, or load
  // and run, never trap or read outside memory.
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 2, 6, 6] }],
    outputs: [{ name: 'y', shape: [-1, 2, -1, -1] }],
    nodes: [{
      name: 'c', inputs: ['x'], outputs: ['y'],
      op: { type: 'Conv2D', weight: { shape: [2, 2, 1, 1], hash: { algorithm: 'xxh32', bucketSeed: 1, signSeed: 2 }, values: { dtype: 'float32', data: new Float32Array(3) } },
        bias: null, strides: [105, 106], pads: [101, 102, 103, 104], dilations: [107, 108], group: 1 },
    }],
    metadata: {},
  };
  const bytes = encode(model);
  const find = (values: number[]): number => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let p = 0; p + 4 * values.length <= bytes.length; p += 4) {
      if (values.every((v, i) => view.getUint32(p + 4 * i, true) === v)) return p;
    }
    throw new Error(`marker ${values} not found`);
  };
  const patched = (at: number[], values: number[]): Uint8Array => {
    const out = bytes.slice();
    const view = new DataView(out.buffer);
    values.forEach((v, i) => view.setUint32(find(at) + 4 * i, v, true));
    return out;
  };
  const BIG = 0x7fffffff;
  const cases: [string, Uint8Array][] = [
    ['the marker file itself', bytes],
    ['huge pads', patched([101, 102, 103, 104], [BIG, BIG, BIG, BIG])],
    ['huge left and right pads', patched([101, 102, 103, 104], [0, BIG - 8, 0, BIG - 8])],
    ['pads just over 2^28', patched([101, 102, 103, 104], [1, 0x10000001, 1, 1])],
    ['huge strides', patched([105, 106], [BIG, BIG])],
    ['strides of 2^28 with a left pad', patched([105, 106], [0x10000000, 0x10000000])],
    ['huge dilations', patched([107, 108], [BIG, BIG])],
    ['zero stride', patched([105, 106], [0, 1])],
  ];
  for (const [what, file] of cases) {
    it(what, async () => {
      const x = await rawInstance();
      const ptr = copyIn(x, file);
      const h = x.hnet_load(ptr, file.length, 0, 0);
      x.hnet_free(ptr);
      if (h === 0) {
        assert.ok(x.hnet_last_error_code() >= 2 && x.hnet_last_error_len() > 0, lastErrorMessage(x));
        return;
      }
      // It loaded: then it is a model the reference accepts too, and both agree.
      const decoded = decode(file);
      const input = randomArray(rng(4), 2 * 2 * 6 * 6);
      new Float32Array(x.memory.buffer, x.hnet_input_ptr(h, 0, 2), input.length).set(input);
      assert.equal(x.hnet_run(h, 2), 0, lastErrorMessage(x));
      const shape = Array.from({ length: 4 }, (_, d) => x.hnet_output_shape_dim(h, 0, d));
      const y = new Float32Array(x.memory.buffer, x.hnet_output_ptr(h, 0), x.hnet_output_len(h, 0)).slice();
      assertClose({ shape, data: y }, runReference(decoded, { x: { shape: [2, 2, 6, 6], data: input } }).y, what);
    });
  }
});
