// Shared helpers of the runtime tests.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Tensor } from '@hnet/format';
import type { HnetExports } from '../src/index.js';

/** The release build, and the debug build (assertions on, unoptimized). */
export const WASM_PATHS = {
  release: new URL('../build/hnet.wasm', import.meta.url),
  debug: new URL('../build/hnet.debug.wasm', import.meta.url),
};
export type Build = keyof typeof WASM_PATHS;
export const wasmBytes = (build: Build = 'release'): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(WASM_PATHS[build]));

/** A raw instance: no wrapper, no imports. */
export async function rawInstance(build: Build = 'release'): Promise<HnetExports> {
  const { instance } = await WebAssembly.instantiate(wasmBytes(build), {});
  return instance.exports as unknown as HnetExports;
}

/**
 * 1e-5 relative. The runtime accumulates in f32 and the reference in f64, so
 * an output that is a near-cancelling sum (a conv of 150 taps, say) carries
 * an absolute error of about f32 epsilon times its terms, not times itself;
 * the scale of each value is therefore floored at 10% of the tensor's
 * largest magnitude.
 */
export const TOLERANCE = 1e-5;
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length, 'lengths differ');
  let largest = 0;
  for (const v of expected) if (Number.isFinite(v)) largest = Math.max(largest, Math.abs(v));
  const floor = Math.max(0.1 * largest, 1e-6);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    if (Object.is(actual[i], expected[i])) continue; // also NaN, ±Infinity
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor));
  }
  return worst;
}

export function assertClose(actual: Tensor, expected: Tensor, what: string): number {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const err = relativeError(actual.data, expected.data);
  assert.ok(err <= TOLERANCE, `${what}: relative error ${err.toExponential(2)} > ${TOLERANCE}`);
  return err;
}

export function lastErrorMessage(x: HnetExports): string {
  return new TextDecoder().decode(new Uint8Array(x.memory.buffer, x.hnet_last_error_ptr(), x.hnet_last_error_len()));
}

/** Copies bytes into the instance; returns the pointer (caller frees). */
export function copyIn(x: HnetExports, bytes: Uint8Array): number {
  const ptr = x.hnet_alloc(bytes.length);
  assert.notEqual(ptr, 0, lastErrorMessage(x));
  new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}
