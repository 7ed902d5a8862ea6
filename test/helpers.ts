// What the cross-package tests share: running a model in onnxruntime-node and
// in the WASM runtime, each session released whatever happens.

import ort from 'onnxruntime-node';
import type { Tensor } from '@hnet/format';
import { loadModel } from '@hnet/runtime-wasm';

/** Every output of an ONNX model in onnxruntime-node, by name. */
export async function runOrt(model: Uint8Array, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(model);
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.shape)]));
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]));
  } finally {
    await session.release();
  }
}

/** Every output of a .hnet file in the WASM runtime, in one of its modes. */
export async function runWasm(bytes: Uint8Array, mode: 'materialized' | 'streaming', inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const runtime = await loadModel(bytes, { mode });
  try {
    return runtime.run(inputs);
  } finally {
    runtime.dispose();
  }
}
