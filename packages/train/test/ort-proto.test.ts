// The hand-written ONNX protobuf writer (src/ort/proto.ts) against onnx-proto
// (protobufjs), its reference: the same message encoded both ways decodes
// to the same ModelProto, and a compiled training graph decodes whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { rng } from '@hnet/format/testing';
import { compile } from '../src/ort/compile.js';
import { hashArrays } from '../src/ort/hashed.js';
import { ATTRIBUTE_TYPE, encodeModel, type ModelMessage } from '../src/ort/proto.js';
import { trainableParams } from '../src/params.js';
import { convZoo } from './ort-models.js';

const onnx = onnxProto.onnx;

/** The same message through protobufjs. */
function referenceBytes(m: ModelMessage): Uint8Array {
  const valueInfo = (v: ModelMessage['graph']['input'][0]) => ({
    name: v.name,
    type: { tensorType: { elemType: v.elemType, shape: { dim: v.dims.map((d) => ({ dimValue: d })) } } },
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: m.irVersion,
      producerName: m.producerName,
      opsetImport: [m.opset],
      graph: {
        name: m.graph.name,
        node: m.graph.node,
        initializer: m.graph.initializer,
        input: m.graph.input.map(valueInfo),
        output: m.graph.output.map(valueInfo),
      },
    }),
  ).finish();
}

const decoded = (bytes: Uint8Array) => onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });

test('proto writer: every field it writes decodes as onnx-proto writes it (negative int64s, floats, bytes, empty lists)', () => {
  const message: ModelMessage = {
    irVersion: 8,
    producerName: 'hnet-train',
    opset: { domain: '', version: 18 },
    graph: {
      name: 'g',
      node: [
        {
          opType: 'Conv',
          input: ['x', 'w'],
          output: ['y'],
          name: 'conv',
          attribute: [
            { name: 'axis', type: ATTRIBUTE_TYPE.INT, i: -1 },
            { name: 'big', type: ATTRIBUTE_TYPE.INT, i: 2 ** 40 + 3 },
            { name: 'pads', type: ATTRIBUTE_TYPE.INTS, ints: [0, 1, -2, 300] },
            { name: 'alpha', type: ATTRIBUTE_TYPE.FLOAT, f: 0.1 },
            { name: 'mode', type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode('constant') },
          ],
        },
        { opType: 'Identity', input: ['y'], output: ['z'], name: 'id', attribute: [] },
      ],
      initializer: [
        { name: 'w', dataType: 1, dims: [2, 3], rawData: new Uint8Array(Float32Array.of(1, -2, 3.5, 0, 1e-8, 7).buffer) },
        { name: 's', dataType: 7, dims: [], rawData: new Uint8Array(BigInt64Array.of(-5n).buffer) },
      ],
      input: [{ name: 'x', elemType: 1, dims: [4, 2, 3] }],
      output: [{ name: 'z', elemType: 1, dims: [] }],
    },
  };
  assert.deepEqual(decoded(encodeModel(message)), decoded(referenceBytes(message)));
});

test('proto writer: a compiled training step decodes with onnx-proto, every node and initializer intact', () => {
  const model = convZoo(rng(3), 'float16', true);
  const params = trainableParams(model).map((param) => ({ param, hash: param.weight.hash ? hashArrays(param.weight, param.values.length) : null }));
  const graph = compile(model, params, 'step', 4, { loss: { alpha: 0.5, temperature: 2 }, optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, weightDecay: 1e-4, dropout: 0.1, rateFactors: params.map((_, k) => (k % 2 ? 0.5 : 1)) });
  const m = onnx.ModelProto.decode(graph.bytes);
  assert.equal(Number(m.irVersion), 8);
  assert.equal(Number(m.opsetImport[0].version), 18);
  const g = m.graph;
  assert.ok(g?.node && g.initializer && g.input && g.output, 'the graph has nodes, initializers, inputs and outputs');
  assert.ok(g.node.length > 50, `${g.node.length} nodes`);
  for (const init of g.initializer) {
    const size = (init.dims as number[]).reduce((a, b) => a * Number(b), 1);
    assert.equal(init.rawData?.length, size * (init.dataType === 7 ? 8 : 4), init.name ?? 'an initializer');
  }
  assert.ok(g.input.some((v) => v.name === 'x@0') && g.output.some((v) => v.name === 'loss@0'));
  assert.ok(g.input.some((v) => v.name === 'mask.0@0'));
});
