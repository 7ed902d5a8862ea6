// What to do about an ONNX op the importer refuses: one table, read by the
// error that lists unsupported nodes (errors.ts), so every caller (the CLI,
// a script using @hnet/convert) gets the same advice.

import { CONVERT_VERSION } from './version.js';

/** "hnet 0.1": the release the refusals speak for. */
const RELEASE = `hnet ${CONVERT_VERSION.split('.').slice(0, 2).join('.')}`;

/** Where the user reads what is supported today. */
export const SUPPORTED_OPS_REFERENCE =
  'supported ops: docs/CLI.md, "What the importer reads"; checked op by op by the ONNX conformance table (test/onnx-conformance.test.ts)';

const ACTIVATIONS = 'Relu, LeakyRelu, Sigmoid, Tanh, Clip (ReLU6), HardSigmoid, HardSwish, Gelu and Erf';

/** Op type → what to do. Ops not listed get the pointer to the supported ops alone. */
const HINTS: Record<string, string> = {
  // Near what hnet reads: say which form of it does convert.
  Resize: 'hnet resizes H and W of [N, C, H, W] in nearest or linear (bilinear) mode, by constant scales or sizes; export with mode "nearest" or "bilinear"',
  Upsample: 'hnet resizes H and W of [N, C, H, W] in nearest or linear (bilinear) mode, by constant scales or sizes; export with mode "nearest" or "bilinear"',
  Einsum: 'not supported: write the contraction with torch.matmul (MatMul, batched, is supported) before exporting',
  InstanceNormalization: `not supported in ${RELEASE}: BatchNormalization and LayerNormalization are`,
  GroupNormalization: `not supported in ${RELEASE}: BatchNormalization and LayerNormalization are`,
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
  Elu: `not supported in ${RELEASE}: the activations hnet runs are ${ACTIVATIONS}`,
  Selu: `not supported in ${RELEASE}: the activations hnet runs are ${ACTIVATIONS}`,
  Softplus: `not supported in ${RELEASE}: the activations hnet runs are ${ACTIVATIONS}`,
  Mish: `not supported in ${RELEASE}: the activations hnet runs are ${ACTIVATIONS}`,
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
