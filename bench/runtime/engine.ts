// One engine on one model, in its own process so that its peak memory is its
// own: `node --import tsx bench/runtime/engine.ts ENGINE MODEL`. Prints one
// JSON line. run.ts calls it for every pair and writes the table.
//
// Engines: hnet-materialized, hnet-streaming (this runtime, through the
// wrapper's run()), ort-web (onnxruntime-web, WASM, 1 thread, the dense
// ONNX export of the same model) and tfjs-wasm (tfjs-backend-wasm, the same
// dense weights as tf ops).

import { encode, expandWeight, type Model } from '@hnet/format';
import { MODELS } from './models.js';

const [engineName, modelName] = process.argv.slice(2);
const make = MODELS[modelName];
if (!make) throw new Error(`unknown model ${modelName}; one of ${Object.keys(MODELS)}`);
const model = make();
const perExample = model.inputs[0].shape.slice(1);
const exampleSize = perExample.reduce((a, b) => a * b, 1);
const BATCH = 64;

/** A runner: set up for a batch size, then call repeatedly. */
type Runner = (batch: number) => Promise<() => Promise<Float32Array> | Float32Array>;

function input(batch: number): Float32Array {
  const data = new Float32Array(batch * exampleSize);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5 + 0.5;
  return data;
}

async function hnetEngine(mode: 'materialized' | 'streaming'): Promise<{ runner: Runner; memory: () => Record<string, number> }> {
  const { loadModel } = await import('@hnet/runtime-wasm');
  const m = await loadModel(encode(model), { mode });
  return {
    runner: async (batch) => {
      const x = { x: { shape: [batch, ...perExample], data: input(batch) } };
      return () => m.run(x).y.data;
    },
    memory: () => ({ linearMemory: m.info.memory.wasm, weights: m.info.memory.weights, arena: m.info.memory.arena }),
  };
}

async function ortEngine(): Promise<{ runner: Runner; memory: () => Record<string, number> }> {
  const ort = await import('onnxruntime-web');
  const { exportOnnx } = await import('@hnet/convert');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(exportOnnx(model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  return {
    runner: async (batch) => {
      const feeds = { [inputName]: new ort.Tensor('float32', input(batch), [batch, ...perExample]) };
      return async () => (await session.run(feeds))[outputName].data as Float32Array;
    },
    memory: () => ({}),
  };
}

async function tfjsEngine(): Promise<{ runner: Runner; memory: () => Record<string, number> }> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  const { fileURLToPath } = await import('node:url');
  setWasmPaths(fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)));
  await tf.setBackend('wasm');
  await tf.ready();
  // The dense model as tf ops: weights as tensors once; NHWC for convolutions (tfjs's layout).
  type Layer = (x: import('@tensorflow/tfjs').Tensor) => import('@tensorflow/tfjs').Tensor;
  const layers: Layer[] = [];
  for (const node of model.nodes) {
    const op = node.op;
    if (op.type === 'Dense') {
      const [o, i] = op.weight.shape;
      const wT = tf.tensor2d(expandWeight(op.weight), [o, i]).transpose(); // [in, out]
      const b = op.bias ? tf.tensor1d(expandWeight(op.bias)) : null;
      layers.push((x) => (b ? tf.add(tf.matMul(x, wT), b) : tf.matMul(x, wT)));
    } else if (op.type === 'Conv2D') {
      const [m, c, kh, kw] = op.weight.shape;
      const w = tf.tensor4d(expandWeight(op.weight), [m, c, kh, kw]).transpose([2, 3, 1, 0]); // [kh, kw, c, m]
      const b = op.bias ? tf.tensor1d(expandWeight(op.bias)) : null;
      layers.push((x) => {
        const y = tf.conv2d(x as import('@tensorflow/tfjs').Tensor4D, w as import('@tensorflow/tfjs').Tensor4D, [op.strides[0], op.strides[1]], 'valid');
        return b ? tf.add(y, b) : y;
      });
    } else if (op.type === 'Relu') layers.push((x) => tf.relu(x));
    else if (op.type === 'MaxPool') layers.push((x) => tf.maxPool(x as import('@tensorflow/tfjs').Tensor4D, op.kernel, op.strides, 'valid'));
    else if (op.type === 'Flatten') {
      // NHWC -> NCHW before flattening, so that the Dense weights (made for NCHW) apply unchanged.
      layers.push((x) => (x.rank === 4 ? tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], -1]) : x));
    } else throw new Error(`tfjs bench: op ${op.type} not mapped`);
  }
  const conv = perExample.length === 3;
  return {
    runner: async (batch) => {
      const x = conv
        ? tf.tensor4d(input(batch), [batch, ...perExample] as [number, number, number, number]).transpose([0, 2, 3, 1])
        : tf.tensor2d(input(batch), [batch, exampleSize]);
      return () => {
        const y = tf.tidy(() => layers.reduce((t, f) => f(t), x as import('@tensorflow/tfjs').Tensor));
        const data = y.dataSync() as Float32Array;
        y.dispose();
        return data;
      };
    },
    memory: () => ({ tfBytes: tf.memory().numBytes }),
  };
}

/** Median time of one call, after warm-up, over about `ms` milliseconds. */
async function time(call: () => Promise<unknown> | unknown, ms: number): Promise<number> {
  for (let i = 0; i < 10; i++) await call();
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end || times.length < 20) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const factories: Record<string, () => Promise<{ runner: Runner; memory: () => Record<string, number> }>> = {
  'hnet-materialized': () => hnetEngine('materialized'),
  'hnet-streaming': () => hnetEngine('streaming'),
  'ort-web': ortEngine,
  'tfjs-wasm': tfjsEngine,
};
const factory = factories[engineName];
if (!factory) throw new Error(`unknown engine ${engineName}; one of ${Object.keys(factories)}`);

const rssBefore = process.memoryUsage().rss;
const { runner, memory } = await factory();
const one = await runner(1);
const first = Array.from(await one()); // for the cross-engine sanity check
const latencyMs = await time(one, 1500);
const many = await runner(BATCH);
const batchMs = await time(many, 2000);
const peakRss = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({
  engine: engineName, model: modelName, latencyMs, batch: BATCH, batchMs, throughput: (BATCH * 1000) / batchMs,
  peakRssDelta: Math.max(0, peakRss - rssBefore), ...memory(), first,
}));
