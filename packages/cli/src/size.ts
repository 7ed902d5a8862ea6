// Where the bytes of an .hnet file go: hashed buckets, plain (dense) weights,
// biases, the names --strip would drop or shorten, the graph (node tables,
// short names, shapes, hash specs, FlatBuffers framing) and the metadata, with
// the gzip and brotli sizes of the whole file beside the raw bytes (what a
// server would send compressed).

import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { stripModel } from '@hnet/convert';
import { encode, formatBytes, storedBytes, weightsOf, type Model, type Weight } from '@hnet/format';
import { UsageError } from './args.js';

export interface SizeBreakdown {
  total: number;
  buckets: number; // stored values of hashed weights
  denseWeights: number; // stored values of plain weights (not biases)
  biases: number;
  names: number; // what the file shrinks by without node names and with intermediate tensors named t0, t1, ... (0 when stripped)
  metadata: number; // what the file shrinks by without its metadata
  graph: number; // the rest
  gzip: number;
  brotli: number;
}

const bytesOf = (w: Weight): number => storedBytes(w.values.dtype, w.values.data.length);

/** The breakdown of `model`, whose encoding is `bytes`. The parts add up to the total. */
export function sizeBreakdown(model: Model, bytes: Uint8Array = encode(model)): SizeBreakdown {
  let buckets = 0;
  let denseWeights = 0;
  let biases = 0;
  for (const node of model.nodes) {
    const w = weightsOf(node.op);
    if (!w) continue;
    if (w.weight.hash) buckets += bytesOf(w.weight);
    else denseWeights += bytesOf(w.weight);
    if (w.bias) biases += bytesOf(w.bias);
  }
  const metadata = bytes.length - encode({ ...model, metadata: {} }).length;
  const names = bytes.length - encode({ ...stripModel(model).model, metadata: model.metadata }).length;
  return {
    total: bytes.length, buckets, denseWeights, biases, names, metadata,
    graph: bytes.length - buckets - denseWeights - biases - names - metadata,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** The breakdown as report lines. */
export function sizeLines(s: SizeBreakdown): string[] {
  const part = (name: string, n: number): string => `  ${name.padEnd(14)}${formatBytes(n).padStart(10)}  ${((100 * n) / s.total).toFixed(1).padStart(5)}%`;
  return [
    `file size: ${formatBytes(s.total)} (${s.total} bytes); gzip -9 ${formatBytes(s.gzip)}, brotli -q 11 ${formatBytes(s.brotli)}`,
    part('buckets', s.buckets),
    part('dense weights', s.denseWeights),
    part('biases', s.biases),
    part('names', s.names),
    part('graph', s.graph),
    part('metadata', s.metadata),
  ];
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2 };

/** A size such as "12KiB", "10.7 KB", "1MiB" or "9000" (bytes). */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || !(Number(m[1]) > 0)) {
    throw new UsageError(`--${flag} must be a size such as 12KiB, 10.7KB, 1MiB or 9000 (bytes), got "${text}"`);
  }
  return Math.floor(Number(m[1]) * unit);
}
