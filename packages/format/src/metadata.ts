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
  /** How raw inputs are scaled before the model (JSON Normalization); see readNormalization. */
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

/** x' = (x · scale − mean) / std, per scalar: how the trainer scaled the inputs. */
export interface Normalization {
  scale: number;
  mean: number;
  std: number;
}

export const IDENTITY_NORMALIZATION: Readonly<Normalization> = { scale: 1, mean: 0, std: 1 };

/**
 * The input normalization recorded in a model's metadata, or null when there
 * is none. Missing fields default to the identity's; a value that is not JSON,
 * or has a non-finite scale/mean or std ≤ 0, throws naming the key.
 */
export function readNormalization(metadata: Readonly<Record<string, string>>): Normalization | null {
  const key = METADATA_KEYS.inputNormalization;
  const raw = metadata[key];
  if (raw === undefined) return null;
  let v: Partial<Normalization>;
  try {
    v = JSON.parse(raw) as Partial<Normalization>;
  } catch {
    throw new HnetFormatError('invalid-field', `metadata["${key}"]`, `not JSON: ${raw}`);
  }
  const norm = { scale: v.scale ?? 1, mean: v.mean ?? 0, std: v.std ?? 1 };
  if (![norm.scale, norm.mean, norm.std].every(Number.isFinite) || !(norm.std > 0)) {
    throw new HnetFormatError('invalid-field', `metadata["${key}"]`, `${raw}: scale and mean must be finite, std > 0`);
  }
  return norm;
}

/** The metadata entry that records `norm`. */
export function normalizationEntry(norm: Normalization): Record<string, string> {
  return { [METADATA_KEYS.inputNormalization]: JSON.stringify(norm) };
}
