// hnet export-onnx: .hnet → a standard dense ONNX model (expanded virtual weights).

import { exportOnnx, exportOpset, writeFileAtomic } from '@hnet/convert';
import { formatBytes, summarizeModel } from '@hnet/format';
import { loadHnet, requireOutput } from '../common.js';
import { SlowWork } from '../slow-work.js';
import type { Verb } from '../verb.js';

export const verb: Verb = {
  usage: 'hnet export-onnx MODEL.hnet -o MODEL.onnx',
  description: `Writes an ONNX model with the same graph (opset 13; 14 with HardSwish, 17 with LayerNorm); every\nhashed weight is expanded to its dense virtual values, so onnxruntime computes what the .hnet means.`,
  examples: ['hnet export-onnx mnist.hnet -o mnist.dense.onnx'],
  positionals: [1, 1],
  flags: [{ name: 'output', short: 'o', kind: 'string', value: 'FILE', help: 'the .onnx file to write (required)' }],
  run(args, io) {
    const input = args.positionals[0];
    const output = requireOutput(args, 'hnet export-onnx model.hnet -o model.onnx');
    const { model } = loadHnet(input);
    // Expanding every hashed weight writes the dense float32 model: announced when that is big.
    const denseBytes = summarizeModel(model).parameters.virtual * 4;
    const bytes = new SlowWork(io.err).step(`exporting ${input} to ONNX`, denseBytes, () => exportOnnx(model));
    writeFileAtomic(output, bytes);
    io.out(`wrote ${output}: ${formatBytes(bytes.length)}, ONNX opset ${exportOpset(model)}`);
  },
};
