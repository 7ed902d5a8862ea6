// Backend choice: tfjs-node (native TensorFlow) when installed, else the
// WebAssembly backend, else plain JS. Printed at start, overridable by an
// option or HNET_BACKEND.

import * as tf from '@tensorflow/tfjs';
import { BACKENDS, type BackendName } from './backend-names.js';
import { TrainError } from './errors.js';

export { BACKENDS, type BackendName };

let current: BackendName | null = null;

/** The backend selectBackend() last started, or null before the first call. */
export function currentBackend(): BackendName | null {
  return current;
}

async function tryBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    // A variable specifier so that TypeScript does not require the package:
    // it cannot be installed everywhere (its native download is often blocked).
    const specifier = '@tensorflow/tfjs-node';
    await import(specifier);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/**
 * Selects and initialises the TensorFlow.js backend. With `preferred` (or
 * HNET_BACKEND) only that backend is tried and a failure is an error;
 * otherwise the first that works of tensorflow, wasm, cpu. Logs the choice.
 */
export async function selectBackend(
  preferred?: BackendName,
  log: ((line: string) => void) | null = (line) => process.stderr.write(line + '\n'),
): Promise<BackendName> {
  const fromEnv = process.env.HNET_BACKEND;
  const wanted = preferred ?? (fromEnv ? (fromEnv as BackendName) : undefined);
  if (wanted !== undefined && !BACKENDS.includes(wanted)) {
    throw new TrainError('backend', `HNET_BACKEND / backend option: unknown backend '${wanted}' (expected one of ${BACKENDS.join(', ')})`);
  }
  const candidates = wanted ? [wanted] : BACKENDS;
  const reasons: string[] = [];
  for (const name of candidates) {
    try {
      await tryBackend(name);
      current = name;
      log?.(`hnet train: backend ${name}${wanted ? ' (requested)' : ''}`);
      return name;
    } catch (err) {
      reasons.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new TrainError('backend', `no TensorFlow.js backend could start:\n  ${reasons.join('\n  ')}`);
}
