// A CLI verb: one file under verbs/ exporting `verb`, listed (with its name
// and one-line summary) in the VERBS table of main.ts. main.ts parses the
// flags a verb declares, handles --help, and maps errors to exit codes, so a
// verb only calls the library.

import type { FlagSpec, ParsedArgs } from './args.js';

export interface Io {
  out: (text: string) => void; // stdout, one line per call
  err: (text: string) => void; // stderr
}

export interface Verb {
  usage: string; // "hnet convert MODEL.onnx -o MODEL.hnet [options]"
  description?: string;
  examples: string[];
  flags: FlagSpec[]; // --help is added by main.ts
  /** Number of positional arguments: [min, max]. */
  positionals: [number, number];
  run(args: ParsedArgs, io: Io): Promise<void> | void;
}
