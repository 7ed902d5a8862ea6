// Model → .hnet bytes. Validates first, so that only valid files are written.

import * as flatbuffers from 'flatbuffers';
import * as fb from '../generated/hnet_generated.js';
import type { Model, Node, Op, StoredValues, Weight } from '../model.js';

/** Values tables already written, by array: weights that share one StoredValues share one table (as decode gives them). */
type Written = Map<StoredValues, number>;
import { RESIZE_COORDINATES, RESIZE_MODES, RESIZE_NEAREST, validateModel } from '../validate.js';
import { packInt4 } from '../values.js';
import { FILE_IDENTIFIER, FORMAT_VERSION, minReaderVersion } from '../version.js';

/** Bulk arrays start on this boundary so that readers can view them in place. */
export const DATA_ALIGNMENT = 16;

const ALGORITHM_CODES = { 'xxh32': fb.HashAlgorithm.XXH32, 'xxh32-block': fb.HashAlgorithm.XXH32Block, 'xxh32-aligned-block': fb.HashAlgorithm.XXH32AlignedBlock } as const;
const DTYPE_TAG = { float32: fb.DType.Float32, float16: fb.DType.Float16, int8: fb.DType.Int8, int4: fb.DType.Int4 } as const;

export function encode(model: Model): Uint8Array {
  validateModel(model);
  return writeModel(model);
}

/**
 * The bytes of a model without validating it: for tests and the hostile
 * corpus only (exported by @hnet/format/testing), to make the files every
 * reader must refuse.
 */
export function writeModel(model: Model): Uint8Array {
  const builder = new flatbuffers.Builder(1024);

  // Tensor table: graph inputs first, then every node output in order.
  const tensorIndex = new Map<string, number>();
  const declaredShape = new Map<string, number[]>();
  for (const t of [...model.inputs, ...model.outputs]) declaredShape.set(t.name, t.shape);
  const addTensor = (name: string): void => {
    if (!tensorIndex.has(name)) tensorIndex.set(name, tensorIndex.size);
  };
  model.inputs.forEach((t) => addTensor(t.name));
  model.nodes.forEach((n) => n.outputs.forEach(addTensor));

  const tensorOffsets = [...tensorIndex.keys()].map((name) => {
    const nameOffset = builder.createString(name);
    const shape = declaredShape.get(name);
    const shapeOffset = shape ? fb.Tensor.createShapeVector(builder, shape.map(BigInt)) : 0;
    return fb.Tensor.createTensor(builder, nameOffset, shapeOffset);
  });
  const indicesOf = (names: string[]): number[] => names.map((n) => tensorIndex.get(n)!);

  const written: Written = new Map();
  const nodeOffsets = model.nodes.map((node) => encodeNode(builder, node, indicesOf, written));
  const metadataOffsets = Object.entries(model.metadata).map(([key, value]) =>
    fb.KeyValue.createKeyValue(builder, builder.createString(key), builder.createString(value)),
  );

  const tensors = fb.Model.createTensorsVector(builder, tensorOffsets);
  const inputs = fb.Model.createInputsVector(builder, indicesOf(model.inputs.map((t) => t.name)));
  const outputs = fb.Model.createOutputsVector(builder, indicesOf(model.outputs.map((t) => t.name)));
  const nodes = fb.Model.createNodesVector(builder, nodeOffsets);
  const metadata = fb.Model.createMetadataVector(builder, metadataOffsets);

  const minReader = minReaderVersion(model);
  fb.Model.startModel(builder);
  fb.Model.addFormatVersion(builder, fb.Version.createVersion(builder, FORMAT_VERSION.major, FORMAT_VERSION.minor));
  fb.Model.addMinReaderVersion(builder, fb.Version.createVersion(builder, minReader.major, minReader.minor));
  fb.Model.addTensors(builder, tensors);
  fb.Model.addInputs(builder, inputs);
  fb.Model.addOutputs(builder, outputs);
  fb.Model.addNodes(builder, nodes);
  fb.Model.addMetadata(builder, metadata);
  builder.finish(fb.Model.endModel(builder), FILE_IDENTIFIER);
  // Copy out of the builder's oversized buffer, so the result owns exactly its bytes.
  return builder.asUint8Array().slice();
}

function encodeNode(builder: flatbuffers.Builder, node: Node, indicesOf: (names: string[]) => number[], written: Written): number {
  // A node's name is optional in the schema (only messages use it): an unnamed node stores none, not "".
  const name = node.name ? builder.createString(node.name) : 0;
  const opOffset = encodeOp(builder, node.op, written);
  const inputs = fb.Node.createInputsVector(builder, indicesOf(node.inputs));
  const outputs = fb.Node.createOutputsVector(builder, indicesOf(node.outputs));
  return fb.Node.createNode(builder, name, fb.Op[node.op.type], opOffset, inputs, outputs);
}

function encodeOp(builder: flatbuffers.Builder, op: Op, written: Written): number {
  switch (op.type) {
    case 'Dense': {
      const weight = encodeWeight(builder, op.weight, written);
      const bias = op.bias ? encodeWeight(builder, op.bias, written) : 0;
      fb.Dense.startDense(builder);
      fb.Dense.addWeight(builder, weight);
      if (bias) fb.Dense.addBias(builder, bias);
      return fb.Dense.endDense(builder);
    }
    case 'Conv2D': {
      const weight = encodeWeight(builder, op.weight, written);
      const bias = op.bias ? encodeWeight(builder, op.bias, written) : 0;
      const strides = fb.Conv2D.createStridesVector(builder, op.strides);
      const pads = fb.Conv2D.createPadsVector(builder, op.pads);
      const dilations = fb.Conv2D.createDilationsVector(builder, op.dilations);
      fb.Conv2D.startConv2D(builder);
      fb.Conv2D.addWeight(builder, weight);
      if (bias) fb.Conv2D.addBias(builder, bias);
      fb.Conv2D.addStrides(builder, strides);
      fb.Conv2D.addPads(builder, pads);
      fb.Conv2D.addDilations(builder, dilations);
      fb.Conv2D.addGroup(builder, op.group);
      return fb.Conv2D.endConv2D(builder);
    }
    case 'Relu':
      return fb.Relu.createRelu(builder);
    case 'LeakyRelu':
      return fb.LeakyRelu.createLeakyRelu(builder, op.alpha);
    case 'Sigmoid':
      return fb.Sigmoid.createSigmoid(builder);
    case 'Tanh':
      return fb.Tanh.createTanh(builder);
    case 'Softmax':
      return fb.Softmax.createSoftmax(builder, op.axis);
    case 'LogSoftmax':
      return fb.LogSoftmax.createLogSoftmax(builder, op.axis);
    case 'Flatten':
      return fb.Flatten.createFlatten(builder, op.axis);
    case 'Reshape':
      return fb.Reshape.createReshape(builder, fb.Reshape.createShapeVector(builder, op.shape.map(BigInt)));
    case 'MaxPool': {
      const kernel = fb.MaxPool.createKernelVector(builder, op.kernel);
      const strides = fb.MaxPool.createStridesVector(builder, op.strides);
      const pads = fb.MaxPool.createPadsVector(builder, op.pads);
      const dilations = fb.MaxPool.createDilationsVector(builder, op.dilations);
      return fb.MaxPool.createMaxPool(builder, kernel, strides, pads, dilations, op.ceilMode);
    }
    case 'AveragePool': {
      const kernel = fb.AveragePool.createKernelVector(builder, op.kernel);
      const strides = fb.AveragePool.createStridesVector(builder, op.strides);
      const pads = fb.AveragePool.createPadsVector(builder, op.pads);
      return fb.AveragePool.createAveragePool(builder, kernel, strides, pads, op.ceilMode, op.countIncludePad);
    }
    case 'GlobalAveragePool':
      return fb.GlobalAveragePool.createGlobalAveragePool(builder);
    case 'BatchNorm': {
      const scale = fb.BatchNorm.createScaleVector(builder, op.scale);
      const bias = fb.BatchNorm.createBiasVector(builder, op.bias);
      const mean = fb.BatchNorm.createMeanVector(builder, op.mean);
      const variance = fb.BatchNorm.createVarianceVector(builder, op.variance);
      return fb.BatchNorm.createBatchNorm(builder, scale, bias, mean, variance, op.epsilon);
    }
    case 'Add':
      return fb.Add.createAdd(builder);
    case 'Constant': {
      const value = encodeWeight(builder, op.value, written);
      return fb.Constant.createConstant(builder, value);
    }
    case 'Concat':
      return fb.Concat.createConcat(builder, op.axis);
    case 'Slice': {
      const starts = fb.Slice.createStartsVector(builder, op.starts.map(BigInt));
      const ends = fb.Slice.createEndsVector(builder, op.ends.map(BigInt));
      const axes = fb.Slice.createAxesVector(builder, op.axes);
      const steps = fb.Slice.createStepsVector(builder, op.steps.map(BigInt));
      return fb.Slice.createSlice(builder, starts, ends, axes, steps);
    }
    case 'Clip': {
      // flatc 2.0.8 gives an optional float field the default 0, so a bound of 0 (ReLU6's min) would
      // be dropped and read back as "no bound": write the present bounds whatever their value.
      builder.forceDefaults(true);
      const clip = fb.Clip.createClip(builder, op.min, op.max);
      builder.forceDefaults(false);
      return clip;
    }
    case 'HardSigmoid':
      return fb.HardSigmoid.createHardSigmoid(builder, op.alpha, op.beta);
    case 'HardSwish':
      return fb.HardSwish.createHardSwish(builder);
    case 'Mul':
      return fb.Mul.createMul(builder);
    case 'Sub':
      return fb.Sub.createSub(builder);
    case 'Div':
      return fb.Div.createDiv(builder);
    case 'Pow':
      return fb.Pow.createPow(builder, op.exponent);
    case 'Sqrt':
      return fb.Sqrt.createSqrt(builder);
    case 'Exp':
      return fb.Exp.createExp(builder);
    case 'Erf':
      return fb.Erf.createErf(builder);
    case 'Neg':
      return fb.Neg.createNeg(builder);
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax': {
      // All axes (null) is written as no vector. The three tables share one layout: (axes, keepdims).
      const axes = op.axes === null ? 0 : fb.ReduceMean.createAxesVector(builder, op.axes);
      if (op.type === 'ReduceMean') return fb.ReduceMean.createReduceMean(builder, axes, op.keepdims);
      if (op.type === 'ReduceSum') return fb.ReduceSum.createReduceSum(builder, axes, op.keepdims);
      return fb.ReduceMax.createReduceMax(builder, axes, op.keepdims);
    }
    case 'Transpose':
      return fb.Transpose.createTranspose(builder, fb.Transpose.createPermVector(builder, op.perm));
    case 'MatMul':
      return fb.MatMul.createMatMul(builder);
    case 'LayerNorm': {
      const scale = encodeWeight(builder, op.scale, written);
      const bias = op.bias ? encodeWeight(builder, op.bias, written) : 0;
      fb.LayerNorm.startLayerNorm(builder);
      fb.LayerNorm.addAxis(builder, op.axis);
      fb.LayerNorm.addEpsilon(builder, op.epsilon);
      fb.LayerNorm.addScale(builder, scale);
      if (bias) fb.LayerNorm.addBias(builder, bias);
      return fb.LayerNorm.endLayerNorm(builder);
    }
    case 'Gelu':
      return fb.Gelu.createGelu(builder, op.tanhApproximation);
    case 'Squeeze':
      return fb.Squeeze.createSqueeze(builder, fb.Squeeze.createAxesVector(builder, op.axes));
    case 'Unsqueeze':
      return fb.Unsqueeze.createUnsqueeze(builder, fb.Unsqueeze.createAxesVector(builder, op.axes));
    case 'Pad':
      return fb.Pad.createPad(builder, fb.Pad.createPadsVector(builder, op.pads.map(BigInt)), op.value);
    case 'GlobalMaxPool':
      return fb.GlobalMaxPool.createGlobalMaxPool(builder);
    case 'Resize':
      return fb.Resize.createResize(
        builder, RESIZE_MODES.indexOf(op.mode), RESIZE_COORDINATES.indexOf(op.coordinates), RESIZE_NEAREST.indexOf(op.nearest),
        fb.Resize.createScalesVector(builder, op.scales),
      );
    case 'ConvTranspose': {
      const weight = encodeWeight(builder, op.weight, written);
      const bias = op.bias ? encodeWeight(builder, op.bias, written) : 0;
      const strides = fb.ConvTranspose.createStridesVector(builder, op.strides);
      const pads = fb.ConvTranspose.createPadsVector(builder, op.pads);
      const dilations = fb.ConvTranspose.createDilationsVector(builder, op.dilations);
      const outputPadding = fb.ConvTranspose.createOutputPaddingVector(builder, op.outputPadding);
      fb.ConvTranspose.startConvTranspose(builder);
      fb.ConvTranspose.addWeight(builder, weight);
      if (bias) fb.ConvTranspose.addBias(builder, bias);
      fb.ConvTranspose.addStrides(builder, strides);
      fb.ConvTranspose.addPads(builder, pads);
      fb.ConvTranspose.addDilations(builder, dilations);
      fb.ConvTranspose.addOutputPadding(builder, outputPadding);
      fb.ConvTranspose.addGroup(builder, op.group);
      return fb.ConvTranspose.endConvTranspose(builder);
    }
    case 'Expand':
      return fb.Expand.createExpand(builder, fb.Expand.createShapeVector(builder, op.shape.map(BigInt)));
  }
}


function encodeWeight(builder: flatbuffers.Builder, weight: Weight, written: Written): number {
  const shape = fb.Weight.createShapeVector(builder, weight.shape);
  let values = written.get(weight.values);
  if (values === undefined) {
    values = encodeValues(builder, weight.values);
    written.set(weight.values, values);
  }
  const hash = weight.hash
    ? fb.HashSpec.createHashSpec(
        builder,
        ALGORITHM_CODES[weight.hash.algorithm],
        weight.hash.bucketSeed >>> 0,
        (weight.hash.signSeed ?? 0) >>> 0,
        weight.hash.signSeed !== null,
        weight.hash.algorithm === 'xxh32' ? 0 : weight.hash.block,
      )
    : 0;
  fb.Weight.startWeight(builder);
  fb.Weight.addShape(builder, shape);
  if (hash) fb.Weight.addHash(builder, hash);
  fb.Weight.addValues(builder, values);
  return fb.Weight.endWeight(builder);
}

function encodeValues(builder: flatbuffers.Builder, values: StoredValues): number {
  const { data } = values;
  // Little-endian bytes of the typed array (every platform Node and browsers run on is little-endian); int4 two per byte.
  const bytes = values.dtype === 'int4' ? packInt4(values.data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // prep() pads so that the vector's first byte lands on DATA_ALIGNMENT.
  builder.prep(DATA_ALIGNMENT, bytes.length);
  const dataOffset = builder.createByteVector(bytes);
  const scale = values.dtype === 'int8' || values.dtype === 'int4' ? values.scale : 1;
  return fb.Values.createValues(builder, DTYPE_TAG[values.dtype], data.length, scale, dataOffset);
}
