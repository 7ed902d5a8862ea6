// hnet inspect: what a .hnet file holds — graph, per-layer parameters, hash
// specs with their seeds, size against the dense float32 equivalent, metadata.

import { describeFile, formatBytes, formatCount, formatShape, formatWeightShape, hex } from '@hnet/format';
import { loadHnet, table, toJson } from '../common.js';
import type { Verb } from '../verb.js';

export const verb: Verb = {
  usage: 'hnet inspect MODEL.hnet [--json]',
  examples: ['hnet inspect mnist.hnet', 'hnet inspect mnist.hnet --json | jq .parameters'],
  positionals: [1, 1],
  flags: [{ name: 'json', kind: 'boolean', help: 'print everything as JSON' }],
  run(args, io) {
    const file = args.positionals[0];
    const { model, bytes } = loadHnet(file);
    const d = describeFile(model, bytes);
    if (args.booleans.has('json')) {
      io.out(toJson({ file, ...d }, 2));
      return;
    }
    io.out(`${file}: .hnet format ${d.formatVersion} (needs a reader ≥ ${d.minReaderVersion}), ${formatBytes(d.bytes.file)}`);
    io.out(`inputs:  ${d.inputs.map((t) => `${t.name} ${formatShape(t.shape)}`).join(', ')}`);
    io.out(`outputs: ${d.outputs.map((t) => `${t.name} ${formatShape(t.shape)}`).join(', ')}`);
    io.out('');
    io.out(table(['#', 'node', 'op', 'inputs', 'output', 'shape'],
      d.nodes.map((n) => [String(n.index), n.name, n.op, n.inputs.join(', '), n.outputs.join(', '), formatShape(n.shape)])));
    io.out('');
    io.out(table(['#', 'layer', 'part', 'virtual shape', 'virtual', 'real', 'dtype', 'hash'],
      d.weights.map((w) => [
        String(w.node), w.layer, w.part, formatWeightShape(w.shape), formatCount(w.virtual), formatCount(w.real), w.dtype,
        w.hash
          ? `${w.hash.algorithm}${w.hash.algorithm === 'xxh32' ? '' : ` Z=${w.hash.block}`} K=${formatCount(w.hash.buckets)} bucket seed ${hex(w.hash.bucketSeed)} sign seed ${w.hash.signSeed === null ? 'none' : hex(w.hash.signSeed)}`
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
