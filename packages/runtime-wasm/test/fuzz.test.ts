// Corrupted files against the .wasm: truncations, byte flips, overwritten
// words and zeroed ranges of valid files. Each must load with an error code
// or load and run; never trap, read out of bounds or hang. A model loaded
// before the barrage keeps running correctly throughout.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { decode, encode, sizeOf } from '@hnet/format';
import type { HnetExports } from '../src/index.js';
import { copyIn, lastErrorMessage, rawInstance } from './helpers.js';
import { mlpModel, randomArray, randomModel, randomModel11, rng } from './models.js';

const CASES = 6000;
const BUDGET = 64 << 20; // keeps corrupt shapes from asking for gigabytes

function mutate(bytes: Uint8Array, random: () => number): { bytes: Uint8Array; how: string } {
  const out = bytes.slice();
  const at = (): number => Math.floor(random() * bytes.length);
  const kind = Math.floor(random() * 4);
  switch (kind) {
    case 0: {
      const len = at();
      return { bytes: bytes.slice(0, len), how: `truncated to ${len}` };
    }
    case 1: {
      const flips = 1 + Math.floor(random() * 4);
      const where: number[] = [];
      for (let i = 0; i < flips; i++) {
        const p = at();
        out[p] ^= 1 << Math.floor(random() * 8);
        where.push(p);
      }
      return { bytes: out, how: `bits flipped at ${where}` };
    }
    case 2: {
      const p = at() & ~3;
      const value = [0, 0xffffffff, 0x7fffffff, 0x80000000, Math.floor(random() * 2 ** 32), Math.floor(random() * 256)][Math.floor(random() * 6)];
      if (p + 4 <= out.length) new DataView(out.buffer).setUint32(p, value, true);
      return { bytes: out, how: `u32 at ${p} = ${value}` };
    }
    default: {
      const p = at();
      const n = 1 + Math.floor(random() * 16);
      out.fill(random() < 0.5 ? 0 : 0xff, p, p + n);
      return { bytes: out, how: `filled ${n} bytes at ${p}` };
    }
  }
}

function runOnce(x: HnetExports, h: number, batch: number, input: Float32Array): Float32Array {
  const len = x.hnet_input_len(h, 0, batch);
  assert.equal(len, input.length);
  new Float32Array(x.memory.buffer, x.hnet_input_ptr(h, 0, batch), len).set(input);
  assert.equal(x.hnet_run(h, batch), 0, lastErrorMessage(x));
  return new Float32Array(x.memory.buffer, x.hnet_output_ptr(h, 0), x.hnet_output_len(h, 0)).slice();
}

for (const [build, cases] of [['release', CASES], ['debug', CASES / 4]] as const) {
  it(`${build} build, ${cases} corrupted files: an error code or a run, never a trap`, { timeout: 300_000 }, async () => {
    const x = await rawInstance(build);
    const CASES = cases;
    const sources = [
      randomModel(1), randomModel(2, { dtype: 'float16' }), randomModel(3, { dtype: 'int8' }), mlpModel(4, [40, 20, 5]),
      // Format 1.1: its ops, int4 buckets and block hashing (a block of 1, of 32, and one that does not divide the columns).
      randomModel11(6), randomModel11(7, { dtype: 'int4' }), randomModel11(8, { block: 32 }), randomModel11(9, { block: 1, dtype: 'int4' }),
      mlpModel(10, [40, 20, 5], { block: 7, dtype: 'int4' }),
    ].map((m) => encode(m));

    // The sentinel: loaded first, checked after every failure.
    const sentinelModel = randomModel(5);
    const sentinelBytes = encode(sentinelModel);
    const sp = copyIn(x, sentinelBytes);
    const sentinel = x.hnet_load(sp, sentinelBytes.length, 0, 2);
    x.hnet_free(sp);
    assert.ok(sentinel > 0, lastErrorMessage(x));
    const sentinelInput = randomArray(rng(5), sizeOf(sentinelModel.inputs[0].shape.slice(1)) * 2);
    const sentinelOutput = runOnce(x, sentinel, 2, sentinelInput);

    const random = rng(12345);
    const counts = { loaded: 0, rejected: 0, agreeWithDecode: 0 };
    const codes = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const source = sources[i % sources.length];
      const { bytes, how } = mutate(source, random);
      let decodeAccepts = true;
      try {
        decode(bytes);
      } catch {
        decodeAccepts = false;
      }
      try {
        const ptr = bytes.length > 0 ? copyIn(x, bytes) : 0;
        const h = x.hnet_load(ptr, bytes.length, BUDGET, i % 3);
        if (ptr) x.hnet_free(ptr);
        if (h > 0) {
          counts.loaded++;
          // The runtime may be stricter than decode (it checks shapes at a real batch size), never looser.
          assert.ok(decodeAccepts, `${how}: the runtime loaded a file that decode rejects`);
          const rank = x.hnet_input_rank(h, 0);
          const perExample = Array.from({ length: rank }, (_, d) => x.hnet_input_dim(h, 0, d)).filter((d) => d !== -1);
          const len = x.hnet_input_len(h, 0, 1);
          if (len > 0 && len <= 1 << 20) {
            const input = randomArray(random, len);
            new Float32Array(x.memory.buffer, x.hnet_input_ptr(h, 0, 1), len).set(input);
            const status = x.hnet_run(h, 1);
            assert.equal(status, 0, `${how}: run failed: ${lastErrorMessage(x)} (${perExample})`);
          }
          x.hnet_unload(h);
        } else {
          counts.rejected++;
          const code = x.hnet_last_error_code();
          assert.ok(code >= 2 && code <= 8, `${how}: error code ${code}`);
          assert.ok(x.hnet_last_error_len() > 0, `${how}: an error has a message`);
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
        if ((h > 0) === decodeAccepts) counts.agreeWithDecode++;
      } catch (e) {
        mkdirSync(new URL('../test-results/', import.meta.url), { recursive: true });
        const file = new URL(`../test-results/fuzz-${build}-case-${i}.hnet`, import.meta.url);
        writeFileSync(file, bytes);
        throw new Error(`case ${i} (${how}) broke the runtime: ${(e as Error).message}; saved to ${file.pathname}`, { cause: e });
      }
      if (i % 50 === 0) assert.deepEqual(runOnce(x, sentinel, 2, sentinelInput), sentinelOutput, `sentinel after case ${i}`);
    }
    assert.deepEqual(runOnce(x, sentinel, 2, sentinelInput), sentinelOutput, 'sentinel at the end');
    console.log(`  loaded ${counts.loaded}, rejected ${counts.rejected} (codes ${[...codes].map(([c, n]) => `${c}:${n}`).join(' ')}); same verdict as decode: ${counts.agreeWithDecode}/${CASES}`);
    assert.ok(counts.rejected > CASES / 4, 'the mutations do break files');
  });
}
