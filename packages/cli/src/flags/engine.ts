// --engine and --mode, shared by run, eval and bench.

import { UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
import { DEFAULT_ENGINE, engineNames, getEngine, MODES, type Engine, type Mode } from '../engines.js';

export const ENGINE_FLAG: FlagSpec = {
  name: 'engine', kind: 'string', value: 'NAME', help: `engine: ${DEFAULT_ENGINE} (default, the WASM runtime), reference (the plain-TS oracle)`,
};

export const MODE_FLAG: FlagSpec = {
  name: 'mode', kind: 'string', value: 'MODE', help: 'wasm weights: materialized, streaming or auto (default: materialized when it fits the memory budget)',
};

export function engineFromArgs(args: ParsedArgs): Engine {
  const name = args.strings.get('engine') ?? DEFAULT_ENGINE;
  const engine = getEngine(name);
  if (!engine) throw new UsageError(`unknown --engine "${name}"; available: ${engineNames().join(', ')}`);
  return engine;
}

/** A --mode value that `engine` accepts. */
export function checkMode(text: string, engine: Engine): Mode {
  if (!MODES.includes(text as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${text}"`);
  if (!engine.modes.includes(text as Mode)) throw new UsageError(`--mode ${text}: engine ${engine.name} only runs in mode ${engine.modes.join(', ')}`);
  return text as Mode;
}

export function modeFromArgs(args: ParsedArgs, engine: Engine): Mode {
  return checkMode(args.strings.get('mode') ?? 'auto', engine);
}
