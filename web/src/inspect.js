// What `hnet inspect` shows, computed in the browser from a decoded model:
// @hnet/format's summary (nodes with inferred shapes, each weight's virtual
// vs real size, bucket dtype and hash seeds), the file's versions, and the
// size against the dense float32 model.

import { describeFile, sizeOf } from '@hnet/format';

/**
 * @param {import('@hnet/format').Model} model
 * @param {Uint8Array} bytes the .hnet file
 */
export function describeModel(model, bytes) {
  const producer = model.nodes.find((n) => n.outputs.includes(model.outputs[0]?.name));
  return { ...describeFile(model, bytes), lastOp: producer?.op.type };
}

/** Whether the digit canvas can feed this model: one input of 784 values per example, one output of 10. */
export function classifiesDigits(description) {
  const [input] = description.inputs;
  const [output] = description.outputs;
  const per = (t) => (t.shape[0] === -1 ? t.shape.slice(1) : null);
  return description.inputs.length === 1 && description.outputs.length === 1 &&
    per(input) !== null && sizeOf(per(input)) === 784 && per(output) !== null && sizeOf(per(output)) === 10;
}
