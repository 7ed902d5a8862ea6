// The engines of the runtime benchmark, each set up on one model: this
// runtime (materialized and streaming, through the wrapper's run()),
// onnxruntime-web (WASM backend, 1 thread, the dense ONNX export of the same
// model) and tfjs-backend-wasm (the same dense weights as tf ops).
//
// run.ts times them side by side in one process; it also runs this file as
// `node --import tsx bench/runtime/engine.ts ENGINE MODEL` in a child process
// per engine, to measure each one's peak memory on its own.

import { encode, expandWeight, type Model } from '@hnet/format';
import type * as TF from '@tensorflow/tfjs';
import { MODELS } from './models.js';

export const ENGINES = ['hnet-materialized', 'hnet-streaming', 'ort-web', 'tfjs-wasm'] as const;

/**
 * The engines that run a model: all of them, except tfjs-wasm on a model with
 * an op that tfjsEngine does not map (it maps the MLP and LeNet ops: Dense,
 * ungrouped unpadded Conv2D, Relu, MaxPool, Flatten). The MobileNet and
 * transformer models compare this runtime with onnxruntime-web only.
 */
export function enginesFor(model: Model): string[] {
  const mapped = model.nodes.every(({ op }) => ['Dense', 'Relu', 'MaxPool', 'Flatten'].includes(op.type)
    || (op.type === 'Conv2D' && op.group === 1 && op.pads.every((p) => p === 0)));
  return ENGINES.filter((e) => e !== 'tfjs-wasm' || mapped);
}

/** Set up for a batch size; the returned call runs once and returns the output. */
export type Runner = (batch: number) => Promise<() => Promise<Float32Array> | Float32Array>;
export interface Engine {
  runner: Runner;
  memory: () => Record<string, number>;
  /** Frees the engine's model, so that it does not weigh on the models timed after it in the same process. */
  close: () => Promise<void>;
}

/** The input every engine sees: deterministic, in [0, 1]. */
export function benchInput(size: number): Float32Array {
  const data = new Float32Array(size);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5 + 0.5;
  return data;
}

async function hnetEngine(model: Model, mode: 'materialized' | 'streaming'): Promise<Engine> {
  const { loadModel } = await import('@hnet/runtime-wasm');
  const m = await loadModel(encode(model), { mode });
  const perExample = model.inputs[0].shape.slice(1);
  const size = perExample.reduce((a, b) => a * b, 1);
  return {
    runner: async (batch) => {
      const x = { x: { shape: [batch, ...perExample], data: benchInput(batch * size) } };
      return () => m.run(x).y.data;
    },
    memory: () => ({ linearMemory: m.info.memory.wasm, weights: m.info.memory.weights, arena: m.info.memory.arena }),
    close: async () => m.dispose(),
  };
}

async function ortEngine(model: Model): Promise<Engine> {
  const ort = await import('onnxruntime-web');
  const { exportOnnx } = await import('@hnet/convert');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(exportOnnx(model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const perExample = model.inputs[0].shape.slice(1);
  const size = perExample.reduce((a, b) => a * b, 1);
  return {
    runner: async (batch) => {
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', benchInput(batch * size), [batch, ...perExample]) };
      return async () => (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
    },
    memory: () => ({}),
    close: () => session.release(),
  };
}

async function tfjsEngine(model: Model): Promise<Engine> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const { fileURLToPath } = await import('node:url');
  wasm.setWasmPaths(fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)));
  await tf.setBackend('wasm');
  await tf.ready();
  // The dense model as tf ops, weights made once; NHWC inside (tfjs's conv layout).
  const layers: ((x: TF.Tensor) => TF.Tensor)[] = [];
  const made: TF.Tensor[] = []; // every tensor this engine keeps, for close
  const keep = <T extends TF.Tensor>(t: T): T => (made.push(t), t);
  for (const node of model.nodes) {
    const op = node.op;
    if (op.type === 'Dense') {
      const wT = keep(tf.tidy(() => tf.tensor2d(expandWeight(op.weight), op.weight.shape as [number, number]).transpose())); // [in, out]
      const b = op.bias ? keep(tf.tensor1d(expandWeight(op.bias))) : null;
      layers.push((x) => (b ? tf.add(tf.matMul(x, wT), b) : tf.matMul(x, wT)));
    } else if (op.type === 'Conv2D') {
      const w = keep(tf.tidy(() => tf.tensor4d(expandWeight(op.weight), op.weight.shape as [number, number, number, number]).transpose([2, 3, 1, 0]))); // [kh, kw, c, m]
      const b = op.bias ? keep(tf.tensor1d(expandWeight(op.bias))) : null;
      layers.push((x) => {
        const y = tf.conv2d(x as TF.Tensor4D, w as TF.Tensor4D, op.strides, 'valid');
        return b ? tf.add(y, b) : y;
      });
    } else if (op.type === 'Relu') layers.push((x) => tf.relu(x));
    else if (op.type === 'MaxPool') layers.push((x) => tf.maxPool(x as TF.Tensor4D, op.kernel, op.strides, 'valid'));
    else if (op.type === 'Flatten') {
      // back to NCHW before flattening, so that the Dense weights (made for NCHW) apply unchanged
      layers.push((x) => (x.rank === 4 ? tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], -1]) : x));
    } else throw new Error(`tfjs bench: op ${op.type} is not mapped`);
  }
  const perExample = model.inputs[0].shape.slice(1);
  const size = perExample.reduce((a, b) => a * b, 1);
  return {
    runner: async (batch) => {
      const x = keep(tf.tidy(() => perExample.length === 3
        ? tf.tensor4d(benchInput(batch * size), [batch, ...perExample] as [number, number, number, number]).transpose([0, 2, 3, 1])
        : tf.tensor2d(benchInput(batch * size), [batch, size])));
      return () => {
        const y = tf.tidy(() => layers.reduce((t, f) => f(t), x as TF.Tensor));
        const data = y.dataSync() as Float32Array;
        y.dispose();
        return data;
      };
    },
    memory: () => ({ tfBytes: tf.memory().numBytes }),
    close: async () => tf.dispose(made),
  };
}

export function makeEngine(name: string, model: Model): Promise<Engine> {
  switch (name) {
    case 'hnet-materialized': return hnetEngine(model, 'materialized');
    case 'hnet-streaming': return hnetEngine(model, 'streaming');
    case 'ort-web': return ortEngine(model);
    case 'tfjs-wasm': return tfjsEngine(model);
    default: throw new Error(`unknown engine ${name}; one of ${ENGINES.join(', ')}`);
  }
}

/** Calls a runner for about `ms` milliseconds; returns every call's time. */
export async function timeCalls(call: () => Promise<unknown> | unknown, ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end || times.length < 5) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  return times;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// CLI: one engine on one model in this process; prints its peak memory as JSON.
const invoked = process.argv[1]?.endsWith('engine.ts');
if (invoked) {
  const [engineName, modelName] = process.argv.slice(2);
  const make = MODELS[modelName];
  if (!make) throw new Error(`unknown model ${modelName}; one of ${Object.keys(MODELS).join(', ')}`);
  const model = make();
  const rssBefore = process.memoryUsage().rss;
  const { runner, memory } = await makeEngine(engineName, model);
  const one = await runner(1);
  for (let i = 0; i < 20; i++) await one();
  const many = await runner(64);
  for (let i = 0; i < 10; i++) await many();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ engine: engineName, model: modelName, peakRssDelta: Math.max(0, peakRss - rssBefore), ...memory() }));
}
