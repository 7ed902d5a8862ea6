// What `hnet inspect` shows, computed in the browser from a decoded model:
// @hnet/format's summary (nodes with inferred shapes, each weight's virtual
// vs real size, bucket dtype and hash seeds), the file's versions, and the
// size against the dense float32 model.

import { formatVersionString, readVersions, sizeOf, summarizeModel } from '@hnet/format';

/**
 * @param {import('@hnet/format').Model} model
 * @param {Uint8Array} bytes the .hnet file
 */
export function describeModel(model, bytes) {
  const summary = summarizeModel(model);
  const versions = readVersions(bytes);
  const producer = model.nodes.find((n) => n.outputs.includes(model.outputs[0]?.name));
  return {
    formatVersion: formatVersionString(versions.format),
    minReaderVersion: formatVersionString(versions.minReader),
    ...summary,
    bytes: { file: bytes.length, denseFloat32: summary.parameters.virtual * 4 },
    lastOp: producer?.op.type,
  };
}

/** Whether the digit canvas can feed this model: one input of 784 values per example, one output of 10. */
export function classifiesDigits(description) {
  const [input] = description.inputs;
  const [output] = description.outputs;
  const per = (t) => (t.shape[0] === -1 ? t.shape.slice(1) : null);
  return description.inputs.length === 1 && description.outputs.length === 1 &&
    per(input) !== null && sizeOf(per(input)) === 784 && per(output) !== null && sizeOf(per(output)) === 10;
}

export const formatCount = (n) => n.toLocaleString('en-US');

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export const formatShape = (shape) => (shape ? `[${shape.map((d) => (d < 0 ? 'N' : d)).join(', ')}]` : '?');

export const hex = (seed) => `0x${(seed >>> 0).toString(16).padStart(8, '0')}`;
