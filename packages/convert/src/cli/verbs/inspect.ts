// hnet inspect: what a .hnet file holds — graph, per-layer parameters, hash
// specs with their seeds, size against the dense float32 equivalent, metadata.

import {
  formatVersionString, readVersions, summarizeModel, type FileVersions, type Model,
} from '@hnet/format';
import { formatBytes, formatCount, hex, loadHnet, table, toJson } from '../common.js';
import type { Verb } from '../verb.js';

/** Everything `inspect` reports, as plain data (the --json output). */
export function describeModel(model: Model, fileBytes: number, versions: FileVersions) {
  const summary = summarizeModel(model);
  return {
    formatVersion: formatVersionString(versions.format),
    minReaderVersion: formatVersionString(versions.minReader),
    ...summary,
    bytes: { file: fileBytes, denseFloat32: summary.parameters.virtual * 4 },
  };
}

const show = (shape: readonly number[] | null): string => (shape ? `[${shape.map((d) => (d < 0 ? 'N' : d)).join(', ')}]` : '?');

export const inspectVerb: Verb = {
  name: 'inspect',
  summary: 'show the graph, parameters, hash specs and metadata of a .hnet file',
  usage: 'hnet inspect MODEL.hnet [--json]',
  examples: ['hnet inspect mnist.hnet', 'hnet inspect mnist.hnet --json | jq .parameters'],
  positionals: [1, 1],
  flags: [{ name: 'json', kind: 'boolean', help: 'print everything as JSON' }],
  run(args, io) {
    const file = args.positionals[0];
    const { model, bytes } = loadHnet(file);
    const d = describeModel(model, bytes.length, readVersions(bytes));
    if (args.booleans.has('json')) {
      io.out(toJson({ file, ...d }, 2));
      return;
    }
    io.out(`${file}: .hnet format ${d.formatVersion} (needs a reader ≥ ${d.minReaderVersion}), ${formatBytes(d.bytes.file)}`);
    io.out(`inputs:  ${d.inputs.map((t) => `${t.name} ${show(t.shape)}`).join(', ')}`);
    io.out(`outputs: ${d.outputs.map((t) => `${t.name} ${show(t.shape)}`).join(', ')}`);
    io.out('');
    io.out(table(['#', 'node', 'op', 'inputs', 'output', 'shape'],
      d.nodes.map((n) => [String(n.index), n.name, n.op, n.inputs.join(', '), n.outputs.join(', '), show(n.shape)])));
    io.out('');
    io.out(table(['#', 'layer', 'part', 'virtual shape', 'virtual', 'real', 'dtype', 'hash'],
      d.weights.map((w) => [
        String(w.node), w.layer, w.part, `[${w.shape.join('×')}]`, formatCount(w.virtual), formatCount(w.real), w.dtype,
        w.hash
          ? `${w.hash.algorithm} K=${formatCount(w.hash.buckets)} bucket seed ${hex(w.hash.bucketSeed)} sign seed ${w.hash.signSeed === null ? 'none' : hex(w.hash.signSeed)}`
          : 'dense',
      ])));
    io.out('');
    const p = d.parameters;
    io.out(`parameters: ${formatCount(p.virtual)} virtual, ${formatCount(p.real)} stored (${(p.virtual / Math.max(1, p.real)).toFixed(2)}× fewer)${p.batchNorm ? `, incl. ${formatCount(p.batchNorm)} BatchNorm` : ''}`);
    io.out(`size: ${formatBytes(d.bytes.file)} file vs ${formatBytes(d.bytes.denseFloat32)} dense float32 weights (${(d.bytes.file / d.bytes.denseFloat32 * 100).toFixed(1)}%)`);
    const meta = Object.entries(d.metadata);
    if (meta.length) {
      io.out('');
      io.out('metadata:');
      for (const [k, v] of meta) io.out(`  ${k}: ${v}`);
    }
  },
};
