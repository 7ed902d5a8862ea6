// What to do about an ONNX op the importer refuses: one table, read by the
// error that lists unsupported nodes (errors.ts), so every caller (the CLI,
// a script using @hnet/convert) gets the same advice.

import { CONVERT_VERSION } from './version.js';

/** "hnet 0.1": the release the refusals speak for. */
const RELEASE = `hnet ${CONVERT_VERSION.split('.').slice(0, 2).join('.')}`;

/** Where the user reads what is supported today. */
export const SUPPORTED_OPS_REFERENCE =
  'supported ops: docs/CLI.md, "What the importer reads"; checked op by op by the ONNX conformance table (test/onnx-conformance.test.ts)';

const PLANNED = `not supported yet in ${RELEASE} — planned (more ops for MobileNet, EfficientNet, DenseNet, ConvNeXt, small transformers)`;

/** Op type → what to do. Ops not listed get the pointer to the supported ops alone. */
const HINTS: Record<string, string> = {
  // In the plan for the next release (issue 12 of the tracker).
  ...Object.fromEntries(
    ['Concat', 'Split', 'Mul', 'Sub', 'Div', 'Pow', 'Sqrt', 'Exp', 'Erf', 'Neg', 'ReduceMean', 'ReduceSum', 'ReduceMax',
      'Transpose', 'MatMul', 'LayerNormalization', 'Gelu', 'Resize', 'Upsample', 'ConvTranspose', 'GlobalMaxPool',
      'HardSigmoid', 'HardSwish', 'Squeeze', 'Unsqueeze', 'Slice', 'Pad'].map((op) => [op, PLANNED]),
  ),
  Clip: `${PLANNED}; meanwhile export ReLU6 as ReLU (nn.ReLU) if the model allows it`,
  Gelu: `${PLANNED}; meanwhile a model trained with ReLU exports without it`,
  Transpose: `${PLANNED}; today a Transpose is folded only before a flatten into a MatMul/Gemm — for a Keras CNN export with \`tf2onnx --inputs-as-nchw INPUT\``,
  MatMul: `${PLANNED} for two computed inputs; today MatMul needs a constant 2-D weight (a linear layer)`,
  // Not in the plan: say what to export instead.
  LSTM: 'recurrent layers are not in hnet\'s plan: hnet hashes Dense and Conv layers (export the feed-forward part)',
  GRU: 'recurrent layers are not in hnet\'s plan: hnet hashes Dense and Conv layers (export the feed-forward part)',
  RNN: 'recurrent layers are not in hnet\'s plan: hnet hashes Dense and Conv layers (export the feed-forward part)',
  Loop: 'control flow is not supported: export a fixed graph (torch.onnx.export traces one), or fold it with onnx-simplifier',
  If: 'control flow is not supported: export a fixed graph (torch.onnx.export traces one), or fold it with onnx-simplifier',
  Scan: 'control flow is not supported: export a fixed graph (torch.onnx.export traces one), or fold it with onnx-simplifier',
  QuantizeLinear: 'a quantized model: export the float32 model; hnet compresses by hashing and can store int8 buckets (--bucket-dtype int8)',
  DequantizeLinear: 'a quantized model: export the float32 model; hnet compresses by hashing and can store int8 buckets (--bucket-dtype int8)',
  QLinearConv: 'a quantized model: export the float32 model; hnet compresses by hashing and can store int8 buckets (--bucket-dtype int8)',
  QLinearMatMul: 'a quantized model: export the float32 model; hnet compresses by hashing and can store int8 buckets (--bucket-dtype int8)',
  PRelu: `not supported in ${RELEASE}: LeakyRelu (one fixed slope) is; export with nn.LeakyReLU if a single slope will do`,
  Elu: `not supported in ${RELEASE}: the activations hnet runs are Relu, LeakyRelu, Sigmoid and Tanh`,
  Selu: `not supported in ${RELEASE}: the activations hnet runs are Relu, LeakyRelu, Sigmoid and Tanh`,
  Softplus: `not supported in ${RELEASE}: the activations hnet runs are Relu, LeakyRelu, Sigmoid and Tanh`,
};

/** The advice for one op type, or null when the table has none. */
export function hintFor(opType: string): string | null {
  return HINTS[opType] ?? null;
}

/**
 * The "what to do" lines under a list of refused nodes: one per op type that
 * has advice (op types that share advice on one line), then where the
 * supported ops are listed.
 */
export function whatToDo(opTypes: readonly string[]): string[] {
  const byHint = new Map<string, string[]>();
  for (const op of new Set(opTypes)) {
    const hint = hintFor(op);
    if (hint) byHint.set(hint, [...(byHint.get(hint) ?? []), op]);
  }
  return [...[...byHint].map(([hint, ops]) => `${ops.join(', ')}: ${hint}`), SUPPORTED_OPS_REFERENCE];
}
