// hnet export-onnx: .hnet → a standard dense ONNX model (expanded virtual weights).

import { EXPORT_OPSET, exportOnnx, writeFileAtomic } from '@hnet/convert';
import { formatBytes } from '@hnet/format';
import { loadHnet, requireOutput } from '../common.js';
import type { Verb } from '../verb.js';

export const verb: Verb = {
  usage: 'hnet export-onnx MODEL.hnet -o MODEL.onnx',
  description: `Writes an opset-${EXPORT_OPSET} ONNX model with the same graph; every hashed weight is\nexpanded to its dense virtual values, so onnxruntime computes what the .hnet means.`,
  examples: ['hnet export-onnx mnist.hnet -o mnist.dense.onnx'],
  positionals: [1, 1],
  flags: [{ name: 'output', short: 'o', kind: 'string', value: 'FILE', help: 'the .onnx file to write (required)' }],
  run(args, io) {
    const input = args.positionals[0];
    const output = requireOutput(args, 'hnet export-onnx model.hnet -o model.onnx');
    const bytes = exportOnnx(loadHnet(input).model);
    writeFileAtomic(output, bytes);
    io.out(`wrote ${output}: ${formatBytes(bytes.length)}, ONNX opset ${EXPORT_OPSET}`);
  },
};
