// The metadata keys of a .hnet file (docs/FORMAT.md, "Metadata") and the
// typed readers and writers of the values tools act on. Keys are free-form
// strings in the file; these are the ones hnet writes, defined once here so
// that the importer, the trainer, the CLI and the web page agree.

import { HnetFormatError } from './errors.js';

export const METADATA_KEYS = {
  /** File name of the imported model. */
  source: 'source',
  /** SHA-256 (hex) of the imported file's bytes. */
  sourceSha256: 'source.sha256',
  /** The ONNX opset of the imported model. */
  sourceOpset: 'source.opset',
  /** The producer the imported file names ("pytorch 2.4"). */
  producer: 'producer',
  /** The tool and version that wrote the file. */
  converter: 'converter',
  /** The hashing policy (JSON) that hashModel applied. */
  hashPolicy: 'hash.policy',
  /** The input preprocessing the model expects (JSON Normalization, per channel); see readNormalization. */
  inputNormalization: 'hnet.input.normalization',
  trainData: 'hnet.train.data',
  trainEpochs: 'hnet.train.epochs',
  trainBestEpoch: 'hnet.train.best_epoch',
  trainLoss: 'hnet.train.loss',
  trainOptimizer: 'hnet.train.optimizer',
  trainInit: 'hnet.train.init',
  trainSeed: 'hnet.train.seed',
  trainBackend: 'hnet.train.backend',
  trainCompression: 'hnet.train.compression',
  trainParameters: 'hnet.train.parameters',
  trainValAccuracy: 'hnet.train.val_accuracy',
  trainTestAccuracy: 'hnet.train.test_accuracy',
} as const;

/**
 * The keys a reader acts on to use the model (today: how to preprocess its input). Everything
 * else hnet writes is provenance (source, converter, hash.policy, the training record), which
 * `hnet convert --strip` drops.
 */
export const USAGE_METADATA_KEYS: readonly string[] = [METADATA_KEYS.inputNormalization];

// ---- hnet.input.normalization ------------------------------------------------
//
// The input preprocessing a model expects, recorded in its metadata so that
// every reader (trainer, CLI, WASM wrapper, web page) applies the same rule:
//
//   x' = (raw · scale − mean[c]) / std[c]
//
// c is the channel of the value: axis 1 of the NCHW input. An example of E
// values holds C channels as C contiguous blocks of E / C values, which is
// both the NCHW layout and a flattened CHW image ([N, C·H·W]). One mean/std
// value applies to every channel.

const NORMALIZATION_KEY: string = METADATA_KEYS.inputNormalization;

export interface Normalization {
  scale: number;
  /** One value for every channel, or one per channel. */
  mean: number[];
  /** Same length rule as mean; every value > 0. */
  std: number[];
}

export const IDENTITY_NORMALIZATION: Normalization = { scale: 1, mean: [0], std: [1] };

/** Named preprocessings, for `--preprocess NAME`. */
export const NORMALIZATION_PRESETS = {
  none: IDENTITY_NORMALIZATION,
  'pixel/255': { scale: 1 / 255, mean: [0], std: [1] },
  imagenet: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const satisfies Record<string, Normalization>;
export type NormalizationPreset = keyof typeof NORMALIZATION_PRESETS;

export function presetNormalization(name: string, field = 'preset'): Normalization {
  const preset = NORMALIZATION_PRESETS[name as NormalizationPreset];
  if (!preset) throw new HnetFormatError('invalid-field', field, `unknown preprocessing "${name}"; presets: ${Object.keys(NORMALIZATION_PRESETS).join(', ')}`);
  return { scale: preset.scale, mean: [...preset.mean], std: [...preset.std] };
}

/** Throws unless scale and means are finite, stds > 0, and mean/std have 1 or the same number of values. */
export function checkNormalization(norm: Normalization, field = NORMALIZATION_KEY): Normalization {
  const bad = (detail: string): never => {
    throw new HnetFormatError('invalid-field', field, `${detail} (in ${JSON.stringify(norm)})`);
  };
  if (!Number.isFinite(norm.scale) || norm.scale === 0) bad('scale must be finite and non-zero');
  if (norm.mean.length === 0 || norm.std.length === 0) bad('mean and std need at least one value');
  if (!norm.mean.every(Number.isFinite)) bad('every mean must be finite');
  if (!norm.std.every((s) => Number.isFinite(s) && s > 0)) bad('every std must be finite and > 0');
  if (norm.mean.length > 1 && norm.std.length > 1 && norm.mean.length !== norm.std.length) {
    bad(`mean has ${norm.mean.length} values and std ${norm.std.length}: give one value or one per channel`);
  }
  return norm;
}

/** Number of channels the normalization distinguishes (1: the same for all). */
export const normalizationChannels = (norm: Normalization): number => Math.max(norm.mean.length, norm.std.length);

export const isIdentityNormalization = (norm: Normalization): boolean =>
  norm.scale === 1 && norm.mean.every((m) => m === 0) && norm.std.every((s) => s === 1);

/**
 * Checks that the normalization fits inputs of this shape ([N, ...] or one
 * example without N is not accepted: pass the model input's shape).
 */
export function checkNormalizationFits(norm: Normalization, inputShape: readonly number[], field = NORMALIZATION_KEY): void {
  const channels = normalizationChannels(norm);
  if (channels === 1) return;
  const per = inputShape.slice(1);
  const size = per.reduce((a, b) => a * b, 1);
  const fits = per.length >= 2 ? per[0] === channels : size % channels === 0;
  if (!fits) {
    throw new HnetFormatError('invalid-field', field, `${channels} per-channel values do not fit input [${inputShape}]: channels are axis 1 of [N, C, ...] (or C equal blocks of a flat [N, C·H·W])`);
  }
}

/** The model input for raw examples stored back to back (a copy). */
export function normalizeValues(raw: Float32Array, exampleSize: number, norm: Normalization): Float32Array {
  const channels = normalizationChannels(norm);
  if (exampleSize <= 0 || raw.length % exampleSize !== 0 || exampleSize % channels !== 0) {
    throw new HnetFormatError('shape', NORMALIZATION_KEY, `${raw.length} values are not whole examples of ${exampleSize} values in ${channels} channel(s)`);
  }
  const block = exampleSize / channels; // values per channel in one example
  const mean = Array.from({ length: channels }, (_, c) => norm.mean[norm.mean.length === 1 ? 0 : c]);
  const inv = Array.from({ length: channels }, (_, c) => 1 / norm.std[norm.std.length === 1 ? 0 : c]);
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const c = Math.floor((i % exampleSize) / block);
    out[i] = (raw[i] * norm.scale - mean[c]) * inv[c];
  }
  return out;
}

/**
 * The metadata value: JSON {"scale", "mean", "std"}, each of mean and std a
 * number when it is one value (the format before per-channel values, which
 * older readers understand) or an array of one per channel.
 */
export function formatNormalization(norm: Normalization): string {
  checkNormalization(norm);
  const one = (v: number[]): number | number[] => (v.length === 1 ? v[0] : v);
  return JSON.stringify({ scale: norm.scale, mean: one(norm.mean), std: one(norm.std) });
}

/** Reads a metadata value written by formatNormalization (or by an older hnet: scalars). */
export function parseNormalization(text: string, field = NORMALIZATION_KEY): Normalization {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HnetFormatError('invalid-field', field, `not JSON: ${text}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HnetFormatError('invalid-field', field, `expected a JSON object {"scale", "mean", "std"}, got ${text}`);
  const o = v as Record<string, unknown>;
  const list = (key: string, fallback: number): number[] => {
    const x = o[key] ?? fallback;
    if (typeof x === 'number') return [x];
    if (Array.isArray(x) && x.every((e) => typeof e === 'number')) return x as number[];
    throw new HnetFormatError('invalid-field', field, `"${key}" must be a number or an array of numbers, got ${JSON.stringify(x)}`);
  };
  const scale = o.scale ?? 1;
  if (typeof scale !== 'number') throw new HnetFormatError('invalid-field', field, `"scale" must be a number, got ${JSON.stringify(scale)}`);
  return checkNormalization({ scale, mean: list('mean', 0), std: list('std', 1) }, field);
}

/** The normalization recorded in a model's metadata, or null when none is; a bad value throws naming the key. */
export function readNormalization(metadata: Readonly<Record<string, string>>): Normalization | null {
  const raw = metadata[NORMALIZATION_KEY];
  return raw === undefined ? null : parseNormalization(raw, `metadata["${NORMALIZATION_KEY}"]`);
}

/** The metadata entry that records `norm`. */
export function normalizationEntry(norm: Normalization): Record<string, string> {
  return { [NORMALIZATION_KEY]: formatNormalization(norm) };
}

const closeTo = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= 1e-9 * Math.max(1, Math.abs(b[i])));

/** The preset this normalization is, if any. */
export function presetOf(norm: Normalization): NormalizationPreset | null {
  for (const [name, p] of Object.entries(NORMALIZATION_PRESETS)) {
    if (closeTo([norm.scale], [p.scale]) && closeTo(norm.mean, p.mean) && closeTo(norm.std, p.std)) return name as NormalizationPreset;
  }
  return null;
}

const num = (v: number): string => String(Number(v.toPrecision(6)));
const scaleText = (s: number): string => (Math.abs(1 / s - Math.round(1 / s)) < 1e-6 && Math.round(1 / s) > 1 ? `1/${Math.round(1 / s)}` : num(s));

/** The command-line flags that give this normalization (for messages that tell the user what to add). */
export function normalizationFlags(norm: Normalization): string {
  const preset = presetOf(norm);
  if (preset) return `--preprocess ${preset}`;
  const parts = [`--input-scale ${scaleText(norm.scale)}`];
  if (norm.mean.some((m) => m !== 0)) parts.push(`--mean ${norm.mean.map(num).join(',')}`);
  if (norm.std.some((s) => s !== 1)) parts.push(`--std ${norm.std.map(num).join(',')}`);
  return parts.join(' ');
}

/** Short human description: "pixel/255", "scale 1/255, mean 0.286, std 0.353". */
export function describeNormalization(norm: Normalization): string {
  const preset = presetOf(norm);
  if (preset) return preset;
  return `scale ${scaleText(norm.scale)}, mean ${norm.mean.map(num).join(',')}, std ${norm.std.map(num).join(',')}`;
}

/** Parts of a normalization as the command line gives them: a preset, then any of scale/mean/std replacing its values. */
export interface NormalizationParts {
  preset?: string;
  scale?: number;
  mean?: number[];
  std?: number[];
}

/** The normalization the parts describe, or null when none is given (the caller decides the default). */
export function resolveNormalization(parts: NormalizationParts): Normalization | null {
  if (parts.preset === undefined && parts.scale === undefined && parts.mean === undefined && parts.std === undefined) return null;
  const base = parts.preset !== undefined ? presetNormalization(parts.preset, '--preprocess') : IDENTITY_NORMALIZATION;
  return checkNormalization(
    { scale: parts.scale ?? base.scale, mean: parts.mean ?? [...base.mean], std: parts.std ?? [...base.std] },
    'preprocessing flags',
  );
}
