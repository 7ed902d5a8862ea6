// Errors of @hnet/convert. One class with a machine-readable code; an import
// that meets several problems reports all of them at once (issues), so the
// user fixes the model in one round instead of one node per run, with what to
// do about each kind of refused op (the importer passes hints.ts's advice; this
// file stays free of Node imports, since hashing.ts runs in the browser too).

export type ConvertErrorCode =
  | 'unsupported' // ops or attributes hnet does not handle (see issues)
  | 'bad-model' // the ONNX file is malformed or inconsistent
  | 'bad-input' // a tensor file (.npy, .pb) or an input does not fit
  | 'file' // a file could not be read or written
  | 'bad-policy'; // hashing options that do not fit the model

/** One offending node of an ONNX graph. */
export interface NodeIssue {
  node: string; // the node's name, or "#index" when it has none
  opType: string;
  reason: string;
}

export class ConvertError extends Error {
  override readonly name = 'ConvertError';
  constructor(
    readonly code: ConvertErrorCode,
    message: string,
    /** Every offending node, for code 'unsupported'. */
    readonly issues: NodeIssue[] = [],
  ) {
    super(message);
  }
}

/** The one error that lists every unsupported node of a graph, then what to do (`advice`, one line each). */
export function unsupportedNodes(source: string, issues: NodeIssue[], advice: string[]): ConvertError {
  const lines = issues.map((i) => `  ${i.node} (${i.opType}): ${i.reason}`);
  const what = issues.length === 1 ? '1 node' : `${issues.length} nodes`;
  return new ConvertError(
    'unsupported',
    `${source}: ${what} cannot be converted; nothing was written:\n${lines.join('\n')}\nwhat to do:\n${advice.map((a) => `  ${a}`).join('\n')}`,
    issues,
  );
}
