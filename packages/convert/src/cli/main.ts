// The `hnet` command: picks the verb, parses its flags, prints help, and maps
// errors to exit codes and one- or two-line messages (no stack traces):
//   0 ok · 1 internal failure · 2 bad usage · 3 bad input (file or model).
// HNET_DEBUG=1 prints the stack of an internal failure.

import { HnetFormatError, NpyError } from '@hnet/format';
import { HnetRuntimeError } from '@hnet/runtime-wasm';
import { TrainError } from '@hnet/train';
import { ConvertError } from '../errors.js';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import './integrate.js'; // the train, eval, bench and demo verbs; --retrain; --engine wasm
import { printable } from './common.js';
import { allVerbs, findVerb } from './registry.js';
import type { Io, Verb } from './verb.js';

export const EXIT = { ok: 0, internal: 1, usage: 2, input: 3 } as const;

const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', kind: 'boolean', help: 'show this help' };

function mainHelp(): string {
  const verbs = allVerbs();
  const width = Math.max(...verbs.map((v) => v.name.length)) + 2;
  return [
    'hnet: HashedNets for the edge — dense ONNX in, hashed .hnet out, run anywhere.',
    '',
    'usage: hnet <command> [options]     (hnet <command> --help for details)',
    '',
    'commands:',
    ...verbs.map((v) => `  ${v.name.padEnd(width)}${v.summary}`),
    '',
    'example:',
    '  hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/8',
    '  hnet inspect mnist.hnet',
    '  hnet run mnist.hnet --input fixtures/mnist_mlp.input.npy',
    '',
    'exit codes: 0 ok, 1 internal failure, 2 bad usage, 3 bad input (file or model)',
  ].join('\n');
}

export function verbHelp(verb: Verb): string {
  return [
    `usage: ${verb.usage}`,
    '',
    verb.summary,
    ...(verb.description ? ['', verb.description] : []),
    '',
    'options:',
    flagHelp([...verb.flags, HELP_FLAG]),
    '',
    verb.examples.length > 1 ? 'examples:' : 'example:',
    ...verb.examples.map((e) => `  ${e}`),
  ].join('\n');
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], rawIo: Io = defaultIo): Promise<number> {
  // Every line passes through here, so no verb can print a name raw.
  const io: Io = { out: (text) => rawIo.out(printable(text)), err: (text) => rawIo.err(printable(text)) };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const verb = name === 'help' && rest[0] ? findVerb(rest[0]) : undefined;
    io.out(verb ? verbHelp(verb) : mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    io.out('hnet 0.1.0 (.hnet format 1.0)');
    return EXIT.ok;
  }
  const verb = findVerb(name);
  if (!verb) {
    io.err(`hnet: unknown command "${name}"; commands: ${allVerbs().map((v) => v.name).join(', ')} (hnet --help)`);
    return EXIT.usage;
  }
  try {
    const args = parseArgs(rest, [...verb.flags, HELP_FLAG]);
    if (args.booleans.has('help')) {
      io.out(verbHelp(verb));
      return EXIT.ok;
    }
    const [min, max] = verb.positionals;
    const n = args.positionals.length;
    if (n < min) throw new UsageError(`missing argument (usage: ${verb.usage})`);
    if (n > max) throw new UsageError(`unexpected argument "${args.positionals[max]}" (usage: ${verb.usage})`);
    await verb.run(args, io);
    return EXIT.ok;
  } catch (e) {
    return report(e, verb, io);
  }
}

function report(e: unknown, verb: Verb, io: Io): number {
  const prefix = `hnet ${verb.name}`;
  if (e instanceof UsageError) {
    io.err(`${prefix}: ${e.message}`);
    io.err(`run "hnet ${verb.name} --help" for the options and an example`);
    return EXIT.usage;
  }
  if (e instanceof ConvertError) {
    io.err(`${prefix}: ${e.message}`);
    return e.code === 'bad-policy' ? EXIT.usage : EXIT.input;
  }
  if (e instanceof HnetFormatError) {
    io.err(`${prefix}: invalid model: ${e.message}`);
    return EXIT.input;
  }
  if (e instanceof NpyError) {
    io.err(`${prefix}: ${e.message}`);
    return EXIT.input;
  }
  if (e instanceof TrainError) {
    io.err(`${prefix}: ${e.message}`);
    return EXIT.input;
  }
  if (e instanceof HnetRuntimeError) {
    io.err(`${prefix}: WASM runtime: ${e.message}`);
    return EXIT.input;
  }
  const err = e as Error;
  io.err(`${prefix}: internal error: ${err?.message ?? String(e)}`);
  io.err(process.env.HNET_DEBUG ? String(err?.stack) : 'this is a bug in hnet; rerun with HNET_DEBUG=1 for the stack trace and report it');
  return EXIT.internal;
}
