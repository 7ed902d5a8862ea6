// stripModel (hnet convert --strip): the stripped model computes exactly what the original does,
// keeps its inputs, outputs and usage metadata, and loses only names and provenance.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode, HnetFormatError, METADATA_KEYS, normalizationEntry, runReference, type Model } from '@hnet/format';
import { ConvertError, hashModel, importOnnx, stripModel } from '../src/index.js';
import { assertClose, fixture, loadNpy } from './helpers.js';

const lenet = (): Model => {
  const { model } = hashModel(importOnnx(fixture('lenet.onnx')).model, { compression: 1 / 8, bucketDtype: 'int4', minVirtual: 500 });
  return { ...model, metadata: { ...model.metadata, ...normalizationEntry({ scale: 1 / 255, mean: [0.286], std: [0.353] }), [METADATA_KEYS.trainEpochs]: '10' } };
};

test('a stripped model runs as the original, with its inputs, outputs and preprocessing, in fewer bytes', () => {
  const original = lenet();
  const { model, report } = stripModel(original);
  const back = decode(encode(model));
  assert.deepStrictEqual(back.inputs, original.inputs);
  assert.deepStrictEqual(back.outputs, original.outputs);
  assert.deepStrictEqual(back.metadata, normalizationEntry({ scale: 1 / 255, mean: [0.286], std: [0.353] }));
  assert.ok(back.nodes.every((n) => n.name === ''), 'no node names');
  const output = original.outputs[0].name;
  const intermediate = back.nodes.flatMap((n) => n.outputs).filter((t) => t !== output);
  assert.deepStrictEqual(intermediate, intermediate.map((_, i) => `t${i}`));
  assert.deepStrictEqual(report, {
    metadata: Object.keys(original.metadata).filter((k) => k !== METADATA_KEYS.inputNormalization),
    nodeNames: 12,
    tensors: 11,
  });
  assert.ok(report.metadata.includes(METADATA_KEYS.sourceSha256) && report.metadata.includes(METADATA_KEYS.trainEpochs));
  const x = loadNpy(fixture('lenet.input.npy'));
  assertClose(runReference(back, { input: x })[output], runReference(original, { input: x })[output], 0, 'stripped vs original');
  // Both the names and the dropped metadata take bytes.
  const bytes = encode(model).length;
  assert.ok(bytes < encode({ ...original, metadata: model.metadata }).length, 'the names alone');
  assert.ok(bytes < encode({ ...model, metadata: original.metadata }).length - 500, 'the metadata alone');
});

test('short names skip the names of graph inputs and outputs; stripping twice changes nothing', () => {
  const original = lenet();
  const output = original.outputs[0].name;
  const clash: Model = { ...original, outputs: [{ ...original.outputs[0], name: 't1' }], nodes: original.nodes.map((n) => ({ ...n, outputs: n.outputs.map((t) => (t === output ? 't1' : t)) })) };
  const { model } = stripModel(clash);
  const names = model.nodes.flatMap((n) => n.outputs);
  assert.equal(names[names.length - 1], 't1', 'the output keeps its name');
  assert.equal(new Set(names).size, names.length, 'every tensor is produced once');
  assert.ok(!names.slice(0, -1).includes('t1'));
  assert.deepStrictEqual(stripModel(model).model, model);
});

test('errors on a stripped model still say which node and field: nodes[i] and the op', () => {
  const { model } = stripModel(lenet());
  const broken: Model = { ...model, nodes: model.nodes.map((n, i) => (i === 3 && n.op.type === 'Conv2D' ? { ...n, op: { ...n.op, strides: [0, 1] } } : n)) };
  assert.throws(() => encode(broken), (e: unknown) => e instanceof HnetFormatError && /^nodes\[3\] \(Conv2D\)\.op\.strides/.test(e.field));
});

test('naming a layer of a stripped model says it has no names, and what to do', () => {
  const { model } = stripModel(lenet());
  assert.throws(() => hashModel(model, { compression: 1 / 8, dense: ['/c2/Conv'] }),
    (e: unknown) => e instanceof ConvertError && /no Dense\/Conv2D layer named "\/c2\/Conv" .*; its layers have no names \(a stripped file: convert the original model instead\)$/.test(e.message));
});
