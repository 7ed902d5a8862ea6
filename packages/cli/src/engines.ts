// Engines run an .hnet model, following onnxruntime's backend contract: an
// engine loads the file's bytes once into a Session, which is run many times
// and then disposed. `--engine NAME` of run, eval and bench picks one.
//   reference  the plain-TS forward pass of @hnet/format (the semantic oracle); decodes the bytes
//   wasm       @hnet/runtime-wasm, which parses the bytes itself (no decode → encode round trip)

import { decode, runReference, type Tensor, type TensorInfo } from '@hnet/format';

export type Mode = 'auto' | 'materialized' | 'streaming';
export const MODES: readonly Mode[] = ['auto', 'materialized', 'streaming'];

export interface SessionInfo {
  inputs: TensorInfo[]; // declared shapes, -1 = batch
  outputs: TensorInfo[];
  /** How the weights are held: 'materialized' or 'streaming' (wasm), 'reference'. */
  mode: string;
  /** Bytes of weights and of activations planned for the last batch size, where the engine knows them. */
  memory: { weights: number; arena: number } | null;
}

export interface Session {
  readonly info: SessionInfo;
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  dispose(): void;
}

export interface Engine {
  name: string;
  description: string;
  /** The --mode values it accepts; 'auto' lets the engine choose. */
  modes: readonly Mode[];
  /** memoryBudget: bytes for weights + activations, where the engine has a budget (wasm; default 1 GiB). */
  load(bytes: Uint8Array, options?: { mode?: Mode; memoryBudget?: number }): Promise<Session>;
}

/** The engine of run, eval and bench unless --engine says otherwise: the one users deploy. */
export const DEFAULT_ENGINE = 'wasm';

const engines = new Map<string, Engine>();

export function registerEngine(engine: Engine): void {
  if (engines.has(engine.name)) throw new Error(`an engine named "${engine.name}" is already registered`);
  engines.set(engine.name, engine);
}

export function getEngine(name: string): Engine | undefined {
  return engines.get(name);
}

export function engineNames(): string[] {
  return [...engines.keys()];
}

registerEngine({
  name: 'reference',
  description: 'plain TypeScript forward pass of @hnet/format (slow, exact)',
  modes: ['auto'],
  async load(bytes) {
    const model = decode(bytes);
    return {
      info: { inputs: model.inputs, outputs: model.outputs, mode: 'reference', memory: null },
      run: async (feeds) => runReference(model, feeds),
      dispose: () => {},
    };
  },
});

registerEngine({
  name: 'wasm',
  description: 'the WebAssembly runtime (@hnet/runtime-wasm), materialized or streaming by memory budget',
  modes: MODES,
  async load(bytes, options = {}) {
    const { loadModel } = await import('@hnet/runtime-wasm');
    const runtime = await loadModel(bytes, { mode: options.mode ?? 'auto', memoryBudget: options.memoryBudget });
    return {
      info: runtime.info, // live: memory.arena follows the last batch size
      run: async (feeds) => runtime.run(feeds),
      dispose: () => runtime.dispose(),
    };
  },
});
