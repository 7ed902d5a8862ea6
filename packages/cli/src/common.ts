// Helpers shared by the verbs: loading models with errors that name the file,
// and the text table of reports (numbers and shapes are formatted by @hnet/format).

import { ConvertError, importOnnx, readFileChecked } from '@hnet/convert';
import { decode, encode, HnetFormatError, type Model } from '@hnet/format';
import { HnetRuntimeError } from '@hnet/runtime-wasm';
import { UsageError, type ParsedArgs } from './args.js';
import type { Engine, Mode, Session } from './engines.js';

const isOnnx = (file: string): boolean => file.toLowerCase().endsWith('.onnx');

/** A format error of `file` as a ConvertError naming it, with a hint when it is an ONNX file. */
function fileError(file: string, e: HnetFormatError): ConvertError {
  const hint = e.code === 'bad-identifier' && isOnnx(file) ? ' (an ONNX model: convert it first with `hnet convert`)' : '';
  return new ConvertError('bad-input', `${file}: ${e.message}${hint}`);
}

/** Reads a .hnet file; a format error becomes a ConvertError naming the file. */
export function loadHnet(file: string): { model: Model; bytes: Uint8Array } {
  const bytes = readFileChecked(file, '.hnet model');
  try {
    return { model: decode(bytes), bytes };
  } catch (e) {
    if (e instanceof HnetFormatError) throw fileError(file, e);
    throw e;
  }
}

/** Reads a model from .hnet, or imports an .onnx (no hashing). */
export function loadAnyModel(file: string): Model {
  return isOnnx(file) ? importOnnx(file).model : loadHnet(file).model;
}

/** The .hnet bytes of a file: read as they are, or an .onnx imported (no hashing) and encoded. */
export function modelBytes(file: string): Uint8Array {
  return isOnnx(file) ? encode(importOnnx(file).model) : readFileChecked(file, '.hnet model');
}

/** Loads `bytes` (read from `file`) into a session of `engine`; errors name the file. */
export async function openSession(engine: Engine, file: string, bytes: Uint8Array, mode: Mode, memoryBudget?: number): Promise<Session> {
  try {
    return await engine.load(bytes, { mode, memoryBudget });
  } catch (e) {
    throw sessionError(file, e);
  }
}

/** An engine's load error as a ConvertError naming `file` (other errors unchanged). */
export function sessionError(file: string, e: unknown): unknown {
  if (e instanceof HnetFormatError) return fileError(file, e);
  if (e instanceof HnetRuntimeError) return new ConvertError('bad-input', `${file}: WASM runtime: ${e.message}`);
  return e;
}

/** The -o/--output path, required. */
export function requireOutput(args: ParsedArgs, example: string): string {
  const out = args.strings.get('output');
  if (!out) throw new UsageError(`missing -o OUTPUT (e.g. ${example})`);
  return out;
}

/** Left-aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string => cells.map((s, c) => (s ?? '').padEnd(widths[c])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Text safe for a terminal: C0 controls but newline and tab, DEL, C1 controls
 * (0x9b is a one-byte CSI) and the bidirectional overrides become \uXXXX.
 * Names and metadata come from untrusted files, and ESC sequences in them
 * would otherwise drive the terminal (retitle it, rewrite lines, hide text).
 * The escape is also valid inside JSON strings, so --json output stays JSON.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * JSON for --json output. JSON has no NaN or Infinity and JSON.stringify
 * prints them as null, which reads as "no value"; they are printed as the
 * strings "NaN", "Infinity" and "-Infinity" instead.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}
