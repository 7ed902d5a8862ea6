// Helpers shared by the verbs: loading models with errors that name the file.

import { decode, HnetFormatError, type Model } from '@hnet/format';
import { ConvertError } from '../errors.js';
import { readFileChecked } from '../files.js';
import { importOnnx } from '../onnx/import.js';
import { UsageError, type ParsedArgs } from './args.js';

/** Reads a .hnet file; a format error becomes a ConvertError naming the file. */
export function loadHnet(file: string): { model: Model; bytes: Uint8Array } {
  const bytes = readFileChecked(file, '.hnet model');
  try {
    return { model: decode(bytes), bytes };
  } catch (e) {
    if (e instanceof HnetFormatError) {
      const hint = e.code === 'bad-identifier' && file.endsWith('.onnx') ? ' (an ONNX model: convert it first with `hnet convert`)' : '';
      throw new ConvertError('bad-input', `${file}: ${e.message}${hint}`);
    }
    throw e;
  }
}

/** Reads a model from .hnet, or imports an .onnx (no hashing). */
export function loadAnyModel(file: string): Model {
  return file.toLowerCase().endsWith('.onnx') ? importOnnx(file).model : loadHnet(file).model;
}

/** The -o/--output path, required. */
export function requireOutput(args: ParsedArgs, example: string): string {
  const out = args.strings.get('output');
  if (!out) throw new UsageError(`missing -o OUTPUT (e.g. ${example})`);
  return out;
}

export const formatBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(2)} MiB`;

export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** Left-aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string => cells.map((s, c) => (s ?? '').padEnd(widths[c])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

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
