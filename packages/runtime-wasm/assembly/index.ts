// The ABI of hnet.wasm (docs/RUNTIME.md). Plain numbers in and out: a host
// needs no JavaScript glue, only a way to copy bytes into linear memory.
//
//   ptr = hnet_alloc(len); copy the .hnet bytes to ptr
//   h = hnet_load(ptr, len, budget, mode)        0 on failure; hnet_free(ptr) after
//   hnet_set_input(h, i, xPtr, batch)            copies batch * sizeof(input i) floats
//   hnet_run(h, batch)                           0 = ok, else an error code
//   hnet_output_ptr(h, i), hnet_output_len(h, i) f32 results, valid until the next run
//   hnet_last_error_code/ptr/len()               why the last call failed (UTF-8)
//   hnet_unload(h)
//
// Status codes are in errors.ts. No call traps on bad input; every call
// clears the previous error first, except hnet_free and the error getters.

import { E_ARGUMENT, E_MEMORY, clearError, fail, failed, lastErrorCode, lastErrorUtf8 } from "./errors";
import { parseModel } from "./model";
import { Runtime, setNaiveKernels } from "./runtime";
import { MODE_AUTO, MODE_STREAMING } from "./weights";
import { bucketOf, keyFinish, keyRowState } from "./hash";
import { decodeValues, decodeValuesNaive, float16ToF32, float16x4ToF32 } from "./kernels";
import { MAX_DIMENSION, MAX_ELEMENTS, MAX_GEOMETRY, MAX_RANK, MAX_WORK } from "./limits";

/** The largest buffer hnet_alloc hands out (1 GiB). */
const MAX_ALLOC: u32 = 1 << 30;

const runtimes: Array<Runtime | null> = [];
const names: Array<Array<ArrayBuffer>> = []; // per handle: input names then output names, UTF-8

function get(handle: i32): Runtime | null {
  if (handle < 1 || handle > runtimes.length || runtimes[handle - 1] == null) {
    fail(E_ARGUMENT, "handle " + handle.toString() + " is not a loaded model");
    return null;
  }
  return runtimes[handle - 1];
}

function checkIndex(i: i32, count: i32, what: string): bool {
  if (i < 0 || i >= count) return fail(E_ARGUMENT, what + " index " + i.toString() + " is out of range (" + count.toString() + ")");
  return true;
}

/** Linear memory [ptr, ptr + bytes) exists: a host bug must not become a trap. */
function checkMemory(ptr: usize, bytes: u64, what: string): bool {
  if (ptr == 0 || <u64>ptr + bytes > (<u64>memory.size() << 16)) {
    return fail(E_ARGUMENT, what + ": [" + ptr.toString() + ", +" + bytes.toString() + ") is not inside linear memory");
  }
  return true;
}

// ---- Memory -------------------------------------------------------------------

/** A buffer of `size` bytes (16-byte aligned), or 0. */
export function hnet_alloc(size: u32): usize {
  clearError();
  if (size == 0 || size > MAX_ALLOC) { fail(E_MEMORY, "hnet_alloc(" + size.toString() + "): size must be 1.." + MAX_ALLOC.toString()); return 0; }
  return heap.alloc(<usize>size);
}

/** Frees a buffer of hnet_alloc. Leaves the last error alone, so a host can free the file before reading why hnet_load failed. */
export function hnet_free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

// ---- Models -------------------------------------------------------------------

/**
 * Parses, validates and prepares a model from `len` bytes at `ptr`, which the
 * caller may free afterwards. budget: bytes of memory the model may use
 * (weights + activations at batch 1; 0 = 1 GiB). mode: 0 auto (materialized
 * when it fits the budget, else streaming), 1 materialized, 2 streaming.
 * Returns a handle > 0, or 0 (see hnet_last_error_*).
 */
export function hnet_load(ptr: usize, len: u32, budget: u32, mode: i32): i32 {
  clearError();
  __collect(); // reclaim what earlier loads and unloads left behind (no live locals here yet)
  if (mode < MODE_AUTO || mode > MODE_STREAMING) { fail(E_ARGUMENT, "mode " + mode.toString() + " is not 0 (auto), 1 (materialized) or 2 (streaming)"); return 0; }
  // An empty file is a truncated file (E_TRUNCATED from the parser), whatever pointer the host passes for it.
  if (len > 0 && !checkMemory(ptr, len, "hnet_load")) return 0;
  const model = parseModel(ptr, len);
  if (model == null || failed()) return 0;
  const rt = new Runtime(model);
  if (!rt.loadWeights(ptr, mode, <u64>budget)) { rt.release(); return 0; }
  const ioNames = new Array<ArrayBuffer>(0);
  for (let i = 0; i < model.inputs.length; i++) ioNames.push(String.UTF8.encode(model.tensorNames[model.inputs[i]]));
  for (let i = 0; i < model.outputs.length; i++) ioNames.push(String.UTF8.encode(model.tensorNames[model.outputs[i]]));
  // Reuse a free slot so that handles stay small.
  for (let h = 0; h < runtimes.length; h++) {
    if (runtimes[h] == null) { runtimes[h] = rt; names[h] = ioNames; return h + 1; }
  }
  runtimes.push(rt);
  names.push(ioNames);
  return runtimes.length;
}

export function hnet_unload(handle: i32): void {
  clearError();
  const rt = get(handle);
  if (rt == null) return;
  rt.release();
  runtimes[handle - 1] = null;
  names[handle - 1] = [];
}

/** 1 materialized, 2 streaming (0 for a bad handle). */
export function hnet_mode(handle: i32): i32 {
  clearError();
  const rt = get(handle);
  return rt == null ? 0 : rt.mode;
}

/** Bytes held for weights (and the streaming tile). */
export function hnet_weight_bytes(handle: i32): u32 {
  clearError();
  const rt = get(handle);
  return rt == null ? 0 : <u32>rt.weights.bytes;
}

/** Bytes of the arena planned for the current batch size (0 before the first prepare/run). */
export function hnet_arena_bytes(handle: i32): u32 {
  clearError();
  const rt = get(handle);
  return rt == null || rt.arena == 0 ? 0 : <u32>rt.plan.arenaBytes;
}

/** Address of the arena (tests check it is stable across runs). */
export function hnet_arena_ptr(handle: i32): usize {
  clearError();
  const rt = get(handle);
  return rt == null ? 0 : rt.arena;
}

// ---- Inputs and outputs ---------------------------------------------------------

export function hnet_input_count(handle: i32): i32 {
  clearError();
  const rt = get(handle);
  return rt == null ? -1 : rt.model.inputs.length;
}

export function hnet_output_count(handle: i32): i32 {
  clearError();
  const rt = get(handle);
  return rt == null ? -1 : rt.model.outputs.length;
}

function ioTensor(rt: Runtime, output: bool, i: i32): i32 {
  const list = output ? rt.model.outputs : rt.model.inputs;
  if (!checkIndex(i, list.length, output ? "output" : "input")) return -1;
  return list[i];
}

function ioName(handle: i32, output: bool, i: i32): ArrayBuffer | null {
  const rt = get(handle);
  if (rt == null) return null;
  if (ioTensor(rt, output, i) < 0) return null;
  return names[handle - 1][output ? rt.model.inputs.length + i : i];
}

export function hnet_input_name_ptr(handle: i32, i: i32): usize {
  clearError();
  const b = ioName(handle, false, i);
  return b == null ? 0 : changetype<usize>(b);
}
export function hnet_input_name_len(handle: i32, i: i32): i32 {
  clearError();
  const b = ioName(handle, false, i);
  return b == null ? -1 : b.byteLength;
}
export function hnet_output_name_ptr(handle: i32, i: i32): usize {
  clearError();
  const b = ioName(handle, true, i);
  return b == null ? 0 : changetype<usize>(b);
}
export function hnet_output_name_len(handle: i32, i: i32): i32 {
  clearError();
  const b = ioName(handle, true, i);
  return b == null ? -1 : b.byteLength;
}

/** Rank of a declared input/output shape (-1 on error). */
function ioRank(handle: i32, output: bool, i: i32): i32 {
  const rt = get(handle);
  if (rt == null) return -1;
  const t = ioTensor(rt, output, i);
  return t < 0 ? -1 : rt.model.tensorShapes[t].length;
}

/** Dimension d of a declared shape: -1 is the batch (0 on error). */
function ioDim(handle: i32, output: bool, i: i32, d: i32): i32 {
  const rt = get(handle);
  if (rt == null) return 0;
  const t = ioTensor(rt, output, i);
  if (t < 0) return 0;
  const s = rt.model.tensorShapes[t];
  if (!checkIndex(d, s.length, "dimension")) return 0;
  return <i32>s[d];
}

export function hnet_input_rank(handle: i32, i: i32): i32 { clearError(); return ioRank(handle, false, i); }
export function hnet_output_rank(handle: i32, i: i32): i32 { clearError(); return ioRank(handle, true, i); }
export function hnet_input_dim(handle: i32, i: i32, d: i32): i32 { clearError(); return ioDim(handle, false, i, d); }
export function hnet_output_dim(handle: i32, i: i32, d: i32): i32 { clearError(); return ioDim(handle, true, i, d); }

function prepared(rt: Runtime, batch: i32): bool {
  if (batch < 1) return fail(E_ARGUMENT, "batch " + batch.toString() + " must be >= 1");
  if (rt.batch == batch) return true;
  return rt.prepare(batch);
}

/**
 * Plans the arena for `batch` (done once per batch size; hnet_set_input and
 * hnet_run call it when the batch changes). Returns a status code.
 */
export function hnet_prepare(handle: i32, batch: i32): i32 {
  clearError();
  const rt = get(handle);
  if (rt != null) prepared(rt, batch);
  return lastErrorCode();
}

/** Elements of input i at `batch` (the -1 dimension set to batch); -1 on error. */
export function hnet_input_len(handle: i32, i: i32, batch: i32): i32 {
  clearError();
  const rt = get(handle);
  if (rt == null || !prepared(rt, batch)) return -1;
  const t = ioTensor(rt, false, i);
  return t < 0 ? -1 : rt.plan.sizes[t];
}

/** Where input i lives in the arena for `batch`: write it there directly, or use hnet_set_input. */
export function hnet_input_ptr(handle: i32, i: i32, batch: i32): usize {
  clearError();
  const rt = get(handle);
  if (rt == null || !prepared(rt, batch)) return 0;
  const t = ioTensor(rt, false, i);
  return t < 0 ? 0 : rt.tensorPtr(t);
}

/** Copies input i (hnet_input_len floats, row-major) from `ptr`. Returns a status code. */
export function hnet_set_input(handle: i32, i: i32, ptr: usize, batch: i32): i32 {
  clearError();
  const rt = get(handle);
  if (rt == null || !prepared(rt, batch)) return lastErrorCode();
  const t = ioTensor(rt, false, i);
  if (t < 0) return lastErrorCode();
  const bytes = <u64>rt.plan.sizes[t] << 2;
  if (!checkMemory(ptr, bytes, "hnet_set_input")) return lastErrorCode();
  memory.copy(rt.tensorPtr(t), ptr, <usize>bytes);
  return 0;
}

/** Runs the model on the inputs set for `batch`. Returns a status code. */
export function hnet_run(handle: i32, batch: i32): i32 {
  clearError();
  const rt = get(handle);
  if (rt == null) return lastErrorCode();
  if (rt.batch != batch) {
    fail(E_ARGUMENT, "hnet_run(batch " + batch.toString() + "): the inputs were set for batch " + rt.batch.toString() +
      " (hnet_set_input or hnet_input_ptr for this batch first)");
    return lastErrorCode();
  }
  rt.run();
  return 0;
}

/** Address of output i's f32 data after hnet_run (0 on error). */
export function hnet_output_ptr(handle: i32, i: i32): usize {
  clearError();
  const rt = get(handle);
  if (rt == null) return 0;
  if (rt.batch == 0) { fail(E_ARGUMENT, "hnet_output_ptr: nothing has run yet"); return 0; }
  const t = ioTensor(rt, true, i);
  return t < 0 ? 0 : rt.tensorPtr(t);
}

/** Elements of output i at the current batch (-1 on error). */
export function hnet_output_len(handle: i32, i: i32): i32 {
  clearError();
  const rt = get(handle);
  if (rt == null) return -1;
  if (rt.batch == 0) { fail(E_ARGUMENT, "hnet_output_len: nothing has run yet"); return -1; }
  const t = ioTensor(rt, true, i);
  return t < 0 ? -1 : rt.plan.sizes[t];
}

/** Dimension d of output i's shape at the current batch (0 on error). */
export function hnet_output_shape_dim(handle: i32, i: i32, d: i32): i32 {
  clearError();
  const rt = get(handle);
  if (rt == null) return 0;
  if (rt.batch == 0) { fail(E_ARGUMENT, "hnet_output_shape_dim: nothing has run yet"); return 0; }
  const t = ioTensor(rt, true, i);
  if (t < 0) return 0;
  const s = rt.plan.shapes[t];
  if (!checkIndex(d, s.length, "dimension")) return 0;
  return s[d];
}

// ---- Errors -----------------------------------------------------------------------

export function hnet_last_error_code(): i32 { return lastErrorCode(); }
export function hnet_last_error_ptr(): usize { return changetype<usize>(lastErrorUtf8()); }
export function hnet_last_error_len(): i32 { return lastErrorUtf8().byteLength; }

// ---- For tests ----------------------------------------------------------------------

/** XXH32 of the key (row, col) with `seed`, as the runtime computes it. */
export function hnet_hash_key(row: u32, col: u32, seed: u32): u32 {
  return keyFinish(keyRowState(row, seed), col);
}
/** floor(h * K / 2^32). */
export function hnet_bucket_of(h: u32, count: u32): u32 {
  return bucketOf(h, count);
}
/** A binary16 pattern decoded by the scalar (simd = 0) or the SIMD (simd = 1) decoder. */
export function hnet_float16_to_f32(bits: u32, simd: i32): f32 {
  return simd != 0 ? f32x4.extract_lane(float16x4ToF32(i32x4.splat(bits & 0xffff)), 0) : float16ToF32(bits & 0xffff);
}
/** `count` stored values at `src` decoded to f32 at `dst` by the naive (simd = 0) or the SIMD (simd = 1) decoder. */
export function hnet_decode_values(src: usize, dtype: i32, scale: f32, count: i32, dst: usize, simd: i32): void {
  if (simd != 0) decodeValues(src, dtype, scale, count, dst); else decodeValuesNaive(src, dtype, scale, count, dst);
}
/** A cap of limits.ts (0 elements, 1 rank, 2 work, 3 geometry, 4 dimension), so tests can compare them with @hnet/format's; -1 otherwise. */
export function hnet_limit(which: i32): f64 {
  switch (which) {
    case 0: return <f64>MAX_ELEMENTS;
    case 1: return <f64>MAX_RANK;
    case 2: return MAX_WORK;
    case 3: return <f64>MAX_GEOMETRY;
    case 4: return <f64>MAX_DIMENSION;
    default: return -1;
  }
}
/** 1: run the naive reference kernels instead of the SIMD ones, and lay out arenas with the naive planner. */
export function hnet_set_naive(on: i32): void {
  setNaiveKernels(on != 0);
}
