// Errors of the format library: one class, a machine-readable code, and a
// message that names the field (a path such as "nodes[3].op.weight.values").

export type FormatErrorCode =
  | 'bad-identifier' // not an .hnet file
  | 'unsupported-version' // major version differs, or the file needs a newer reader
  | 'truncated' // a read fell outside the buffer
  | 'invalid-field' // a field has a value the spec forbids
  | 'graph' // missing tensor, duplicate producer, cycle
  | 'shape' // shapes do not fit together
  | 'limit'; // the model asks for more than a reader supports (limits.ts: elements, rank, work, geometry)

export class HnetFormatError extends Error {
  override readonly name = 'HnetFormatError';
  constructor(
    readonly code: FormatErrorCode,
    /** Where in the model: "nodes[2].op.weight.shape", "inputs[0]", ... */
    readonly field: string,
    detail: string,
  ) {
    super(field ? `${field}: ${detail}` : detail);
  }
}
