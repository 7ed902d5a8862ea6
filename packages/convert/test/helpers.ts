// Shared test helpers: hand-built ONNX models, fixture files, onnxruntime.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import type { Tensor } from '@hnet/format';
import { readNpy } from '@hnet/format';
import { onnx, type AttributeProto, type NodeProto, type TensorProto } from '../src/onnx/proto.js';
import { floatTensor, int64Tensor } from '../src/onnx/tensors.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = path.join(REPO, 'fixtures');
export const fixture = (name: string): string => path.join(FIXTURES, name);
export const loadNpy = (file: string): Tensor => readNpy(readFileSync(file), file);

/** A seeded pseudo-random float32 array in [-1, 1). */
export function randomArray(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const A = onnx.AttributeProto.AttributeType;
export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: A.INT, i }),
  float: (name: string, f: number): AttributeProto => ({ name, type: A.FLOAT, f }),
  ints: (name: string, ints: number[]): AttributeProto => ({ name, type: A.INTS, ints }),
  string: (name: string, s: string): AttributeProto => ({ name, type: A.STRING, s: new TextEncoder().encode(s) }),
};

export function node(opType: string, input: string[], output: string[], name = '', attribute: AttributeProto[] = []): NodeProto {
  return { opType, input, output, name, attribute };
}

export { floatTensor, int64Tensor, onnx };

const valueInfo = (name: string, shape: (number | string)[]) => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
});

/** Serialized ONNX model from nodes, float inputs/outputs ("N" = symbolic) and initializers. */
export function onnxModel(spec: {
  nodes: NodeProto[];
  inputs: [string, (number | string)[]][];
  outputs: [string, (number | string)[]][];
  initializers?: TensorProto[];
  opset?: number;
  producer?: string;
}): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 7,
    producerName: spec.producer ?? 'hnet-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      node: spec.nodes,
      initializer: spec.initializers ?? [],
      input: spec.inputs.map(([n, s]) => valueInfo(n, s)),
      output: spec.outputs.map(([n, s]) => valueInfo(n, s)),
    },
  })).finish();
}

/** Runs an ONNX model (path or bytes) in onnxruntime-node. */
export async function runOrt(model: string | Uint8Array, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(model as Uint8Array);
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.shape)]));
  const out = await session.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]));
}

/** Element-wise |a − e| ≤ tol · max(1, |e|), with the same shape. */
export function assertClose(actual: Tensor, expected: Tensor, tol: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const err = Math.abs(actual.data[i] - expected.data[i]) / Math.max(1, Math.abs(expected.data[i]));
    if (!(err <= tol)) assert.fail(`${what}: element ${i} is ${actual.data[i]}, expected ${expected.data[i]}`);
    worst = Math.max(worst, err);
  }
}
