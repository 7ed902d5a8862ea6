// @hnet/runtime-wasm: a thin wrapper over build/hnet.wasm for Node and
// browsers. Everything heavy (parsing, validation, planning, kernels) lives in
// the .wasm; this file copies bytes in and results out.
//
//   const model = await loadModel(bytes, { memoryBudget: 8 << 20 });
//   const { y } = model.run(new Float32Array(784));      // one example
//   model.run([a, b, c]);                                 // a batch of three
//   model.run({ x: { shape: [3, 784], data } });          // by name, with shape
//   model.dispose();
//
// The package depends on nothing: the emitted JS imports nothing, so a browser
// can load it as a plain ES module without a bundler, and the few types of
// @hnet/format its API uses are restated here (test/format-types.test.ts
// checks they stay the same as the format's).

/** A dense float32 tensor, row-major (@hnet/format Tensor). */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Graph input or output; -1 marks the symbolic batch dimension (@hnet/format TensorInfo). */
export interface TensorInfo {
  name: string;
  shape: number[];
}

/** How raw input becomes the model's input: (raw · scale − mean[c]) / std[c] (@hnet/format Normalization). */
export interface Normalization {
  scale: number;
  /** One value for every channel, or one per channel. */
  mean: number[];
  std: number[];
}

export type Mode = 'auto' | 'materialized' | 'streaming';

export interface LoadOptions {
  /** Bytes the model may use for weights + activations (at batch 1); default 1 GiB. */
  memoryBudget?: number;
  /** 'auto' (default): materialized when it fits the budget, else streaming. */
  mode?: Mode;
  /** The .wasm to use instead of the one next to this package (bytes, compiled module or URL). */
  wasm?: BufferSource | WebAssembly.Module | URL | string;
  /**
   * Preprocess the first input in run(): x = (raw · scale − mean[c]) / std[c], c = axis 1 (docs/FORMAT.md,
   * metadata `hnet.input.normalization`). Pass the model's recorded one, e.g.
   * `readNormalization(decode(bytes).metadata)` from @hnet/format, to feed raw inputs. Default: inputs as given.
   */
  normalization?: Normalization | null;
}

export interface ModelInfo {
  inputs: TensorInfo[];   // declared shapes, -1 = batch
  outputs: TensorInfo[];
  mode: 'materialized' | 'streaming';
  memory: {
    weights: number;      // bytes of weights (and the streaming tile)
    arena: number;        // bytes of activations planned for the last batch size
    wasm: number;         // size of the instance's linear memory
  };
}

/** Status codes of the ABI (assembly/errors.ts). */
export const ERROR_CODES = ['ok', 'argument', 'truncated', 'identifier', 'version', 'invalid', 'shape', 'budget', 'memory'] as const;
export type ErrorCodeName = (typeof ERROR_CODES)[number];

export class HnetRuntimeError extends Error {
  constructor(readonly code: number, readonly codeName: ErrorCodeName | 'unknown', message: string) {
    super(message);
    this.name = 'HnetRuntimeError';
  }
}

/** The exports of hnet.wasm (docs/RUNTIME.md). */
export interface HnetExports {
  memory: WebAssembly.Memory;
  hnet_alloc(size: number): number;
  hnet_free(ptr: number): void;
  hnet_load(ptr: number, len: number, budget: number, mode: number): number;
  hnet_unload(handle: number): void;
  hnet_mode(handle: number): number;
  hnet_weight_bytes(handle: number): number;
  hnet_arena_bytes(handle: number): number;
  hnet_arena_ptr(handle: number): number;
  hnet_input_count(handle: number): number;
  hnet_output_count(handle: number): number;
  hnet_input_name_ptr(handle: number, i: number): number;
  hnet_input_name_len(handle: number, i: number): number;
  hnet_output_name_ptr(handle: number, i: number): number;
  hnet_output_name_len(handle: number, i: number): number;
  hnet_input_rank(handle: number, i: number): number;
  hnet_output_rank(handle: number, i: number): number;
  hnet_input_dim(handle: number, i: number, d: number): number;
  hnet_output_dim(handle: number, i: number, d: number): number;
  hnet_prepare(handle: number, batch: number): number;
  hnet_input_len(handle: number, i: number, batch: number): number;
  hnet_input_ptr(handle: number, i: number, batch: number): number;
  hnet_set_input(handle: number, i: number, ptr: number, batch: number): number;
  hnet_run(handle: number, batch: number): number;
  hnet_output_ptr(handle: number, i: number): number;
  hnet_output_len(handle: number, i: number): number;
  hnet_output_shape_dim(handle: number, i: number, d: number): number;
  hnet_last_error_code(): number;
  hnet_last_error_ptr(): number;
  hnet_last_error_len(): number;
  hnet_hash_key(row: number, col: number, seed: number): number;
  hnet_bucket_of(h: number, count: number): number;
  hnet_set_naive(on: number): void;
  hnet_float16_to_f32(bits: number, simd: number): number;
  hnet_decode_values(src: number, dtype: number, scale: number, count: number, dst: number, simd: number): void;
  hnet_limit(which: number): number;
}

const MODES: Record<Mode, number> = { auto: 0, materialized: 1, streaming: 2 };

/** Where the .wasm lives, next to this package (dist/ -> ../build/). */
export const WASM_URL = new URL('../build/hnet.wasm', import.meta.url);

let defaultModule: Promise<WebAssembly.Module> | null = null;

async function readUrl(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === 'file:') {
    const fs = await import('node:fs/promises');
    return new Uint8Array(await fs.readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Compiles hnet.wasm once per process (or the one given). */
export function compileRuntime(wasm?: LoadOptions['wasm']): Promise<WebAssembly.Module> {
  if (wasm instanceof WebAssembly.Module) return Promise.resolve(wasm);
  if (wasm === undefined) return (defaultModule ??= readUrl(WASM_URL).then((b) => WebAssembly.compile(b)));
  if (wasm instanceof URL || typeof wasm === 'string') return readUrl(new URL(wasm, import.meta.url)).then((b) => WebAssembly.compile(b));
  return WebAssembly.compile(wasm);
}

/** A fresh instance of hnet.wasm: no imports needed. */
export async function instantiateRuntime(wasm?: LoadOptions['wasm']): Promise<HnetExports> {
  const instance = await WebAssembly.instantiate(await compileRuntime(wasm), {});
  return instance.exports as unknown as HnetExports;
}

const decoder = new TextDecoder();

function lastError(x: HnetExports, context: string): HnetRuntimeError {
  const code = x.hnet_last_error_code();
  const message = decoder.decode(new Uint8Array(x.memory.buffer, x.hnet_last_error_ptr(), x.hnet_last_error_len()));
  return new HnetRuntimeError(code, ERROR_CODES[code] ?? 'unknown', `${context}: ${message || `error ${code}`}`);
}

export class HnetModel {
  readonly info: ModelInfo;
  private handle: number;

  constructor(
    private readonly x: HnetExports,
    handle: number,
    private readonly normalization: Normalization | null = null,
  ) {
    this.handle = handle;
    const io = (output: boolean): TensorInfo[] => {
      const count = output ? x.hnet_output_count(handle) : x.hnet_input_count(handle);
      return Array.from({ length: count }, (_, i) => {
        const ptr = output ? x.hnet_output_name_ptr(handle, i) : x.hnet_input_name_ptr(handle, i);
        const len = output ? x.hnet_output_name_len(handle, i) : x.hnet_input_name_len(handle, i);
        const rank = output ? x.hnet_output_rank(handle, i) : x.hnet_input_rank(handle, i);
        const shape = Array.from({ length: rank }, (_, d) => (output ? x.hnet_output_dim(handle, i, d) : x.hnet_input_dim(handle, i, d)));
        return { name: decoder.decode(new Uint8Array(x.memory.buffer, ptr, len)), shape };
      });
    };
    this.info = {
      inputs: io(false),
      outputs: io(true),
      mode: x.hnet_mode(handle) === 1 ? 'materialized' : 'streaming',
      memory: { weights: x.hnet_weight_bytes(handle), arena: 0, wasm: x.memory.buffer.byteLength },
    };
  }

  /** The raw exports and handle, for callers that drive the ABI themselves (benchmarks, tests). */
  get abi(): { exports: HnetExports; handle: number } {
    return { exports: this.x, handle: this.live() };
  }

  private live(): number {
    if (this.handle === 0) throw new HnetRuntimeError(1, 'argument', 'the model was disposed');
    return this.handle;
  }

  /**
   * Runs the model. A Float32Array is one example of the single input; an
   * array of them is a batch; an object maps input names to tensors whose
   * first dimension is the batch. Returns every output by name (copies).
   */
  run(input: Float32Array | Float32Array[] | Record<string, Tensor>): Record<string, Tensor> {
    const handle = this.live();
    const x = this.x;
    const named = this.toNamed(input);
    // The batch is the size given for the -1 dimension of the declared shapes.
    let batch: number | null = null;
    for (const t of this.info.inputs) {
      const given = named[t.name];
      if (!given) throw new HnetRuntimeError(1, 'argument', `run: no value for input "${t.name}"`);
      const d = t.shape.indexOf(-1);
      if (d < 0) continue;
      const b = given.shape[d];
      if (batch !== null && b !== batch) throw new HnetRuntimeError(1, 'argument', `run: inputs disagree on the batch size (${batch} vs ${b})`);
      batch = b;
    }
    batch ??= 1; // no symbolic dimension: the shapes are fixed
    // The ABI takes the batch as an i32: a larger one would wrap around.
    if (!(Number.isInteger(batch) && batch >= 1 && batch <= 0x7fffffff)) throw new HnetRuntimeError(1, 'argument', `run: batch size ${batch} must be an integer in 1..2^31-1`);
    if (x.hnet_prepare(handle, batch) !== 0) throw lastError(x, 'run');
    this.info.inputs.forEach((t, i) => {
      const given = named[t.name];
      const expected = t.shape.map((d) => (d === -1 ? batch : d));
      const fits = given.shape.length === expected.length && given.shape.every((d, k) => d === expected[k]);
      if (!fits) throw new HnetRuntimeError(6, 'shape', `run: input "${t.name}" has shape [${given.shape}], expected [${expected}]`);
      const len = x.hnet_input_len(handle, i, batch);
      if (given.data.length !== len) throw new HnetRuntimeError(6, 'shape', `run: input "${t.name}" has ${given.data.length} values, expected ${len}`);
      // Write straight into the arena: no staging buffer, no allocation in the .wasm.
      // (The pointer first: a view must be made after any call that may grow memory.)
      const ptr = x.hnet_input_ptr(handle, i, batch);
      const arena = new Float32Array(x.memory.buffer, ptr, len);
      if (i === 0 && this.normalization) normalizeInto(arena, given.data, len / batch, this.normalization);
      else arena.set(given.data);
    });
    if (x.hnet_run(handle, batch) !== 0) throw lastError(x, 'run');
    this.info.memory.arena = x.hnet_arena_bytes(handle);
    this.info.memory.wasm = x.memory.buffer.byteLength;
    const out: Record<string, Tensor> = {};
    this.info.outputs.forEach((t, i) => {
      const shape = t.shape.map((_, d) => x.hnet_output_shape_dim(handle, i, d));
      const ptr = x.hnet_output_ptr(handle, i);
      const len = x.hnet_output_len(handle, i);
      out[t.name] = { shape, data: new Float32Array(x.memory.buffer, ptr, len).slice() };
    });
    return out;
  }

  private toNamed(input: Float32Array | Float32Array[] | Record<string, Tensor>): Record<string, Tensor> {
    if (!(input instanceof Float32Array) && !Array.isArray(input)) return input;
    if (this.info.inputs.length !== 1) {
      throw new HnetRuntimeError(1, 'argument', `run: the model has ${this.info.inputs.length} inputs; pass them by name`);
    }
    const { name, shape } = this.info.inputs[0];
    const examples = input instanceof Float32Array ? [input] : input;
    const perExample = shape.slice(1);
    const size = perExample.reduce((a, b) => a * b, 1);
    const data = new Float32Array(examples.length * size);
    examples.forEach((e, i) => {
      if (e.length !== size) throw new HnetRuntimeError(6, 'shape', `run: example ${i} has ${e.length} values, input "${name}" needs ${size} ([${perExample}])`);
      data.set(e, i * size);
    });
    return { [name]: { shape: [examples.length, ...perExample], data } };
  }

  /** Frees the model's memory in the .wasm. */
  dispose(): void {
    if (this.handle !== 0) this.x.hnet_unload(this.handle);
    this.handle = 0;
  }
}

/**
 * The format's preprocessing rule (@hnet/format normalizeValues, which a test
 * compares this with), written into `out`: this file imports no JS.
 */
export function normalizeInto(out: Float32Array, raw: ArrayLike<number>, exampleSize: number, norm: Normalization): void {
  const channels = Math.max(norm.mean.length, norm.std.length);
  if (exampleSize % channels !== 0) {
    throw new HnetRuntimeError(6, 'shape', `run: ${channels} per-channel normalization values do not divide the ${exampleSize} values of an example`);
  }
  const block = exampleSize / channels;
  for (let i = 0; i < raw.length; i++) {
    const c = Math.floor((i % exampleSize) / block);
    out[i] = (raw[i] * norm.scale - norm.mean[norm.mean.length === 1 ? 0 : c]) / norm.std[norm.std.length === 1 ? 0 : c];
  }
}

/** Loads an .hnet model into a fresh runtime instance. Throws HnetRuntimeError naming the field on a bad file. */
export async function loadModel(bytes: Uint8Array, options: LoadOptions = {}): Promise<HnetModel> {
  const x = await instantiateRuntime(options.wasm);
  const mode = MODES[options.mode ?? 'auto'];
  if (mode === undefined) throw new HnetRuntimeError(1, 'argument', `mode "${options.mode}" is not auto, materialized or streaming`);
  const budget = options.memoryBudget ?? 0;
  if (!(Number.isInteger(budget) && budget >= 0 && budget <= 0xffffffff)) {
    throw new HnetRuntimeError(1, 'argument', `memoryBudget ${budget} must be an integer number of bytes below 4 GiB`);
  }
  // An empty file still gets a buffer, so that the loader (not hnet_alloc) says what is wrong with it.
  const ptr = x.hnet_alloc(Math.max(1, bytes.length));
  if (ptr === 0) throw lastError(x, 'loadModel');
  new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
  const handle = x.hnet_load(ptr, bytes.length, budget, mode);
  const error = handle === 0 ? lastError(x, 'loadModel') : null;
  x.hnet_free(ptr);
  if (error) throw error;
  return new HnetModel(x, handle, options.normalization ?? null);
}
