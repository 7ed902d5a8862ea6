// The `hnet` command: picks the verb, parses its flags, prints help, and maps
// errors to exit codes and one- or two-line messages (no stack traces):
//   0 ok · 1 internal failure · 2 bad usage · 3 bad input (file or model).
// HNET_DEBUG=1 prints the stack of an internal failure.
//
// VERBS is the whole list of commands. Each entry loads its module only when
// that verb runs (or shows its help), so `hnet --help` and `hnet inspect`
// never load TensorFlow.js or the WASM runtime.

import { createRequire } from 'node:module';
import { ConvertError } from '@hnet/convert';
import { FORMAT_VERSION, formatVersionString, HnetFormatError, NpyError } from '@hnet/format';
import { HnetRuntimeError } from '@hnet/runtime-wasm';
import { TrainError } from '@hnet/train/errors';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { TargetError } from './budget.js';
import { printable } from './common.js';
import type { Io, Verb } from './verb.js';

export const EXIT = { ok: 0, internal: 1, usage: 2, input: 3, target: 4 } as const;

interface VerbEntry {
  name: string;
  summary: string; // one line, for `hnet --help`
  load: () => Promise<{ verb: Verb }>;
}

/** The verbs, in help order. Adding one: a file in verbs/ and a line here (CONTRIBUTING.md). */
const VERBS: readonly VerbEntry[] = [
  { name: 'convert', summary: 'dense ONNX model → .hnet, hashing its layers (--compression)', load: () => import('./verbs/convert.js') },
  { name: 'export-onnx', summary: '.hnet → dense ONNX (virtual weights expanded), for any ONNX tool', load: () => import('./verbs/export-onnx.js') },
  { name: 'run', summary: 'run a model on .npy / TensorProto .pb inputs', load: () => import('./verbs/run.js') },
  { name: 'inspect', summary: 'show the graph, parameters, hash specs and metadata of a .hnet file', load: () => import('./verbs/inspect.js') },
  { name: 'train', summary: 'retrain a model (.onnx or .hnet) on data, optionally hashing it first, and write .hnet', load: () => import('./verbs/train.js') },
  { name: 'eval', summary: 'accuracy of a model (.hnet or .onnx) on labelled data', load: () => import('./verbs/eval.js') },
  { name: 'frontier', summary: 'train a sweep of compressions and plot test accuracy against file bytes (SVG)', load: () => import('./verbs/frontier.js') },
  { name: 'bench', summary: 'latency and throughput of a .hnet per engine mode and batch size', load: () => import('./verbs/bench.js') },
  { name: 'demo', summary: 'the embedded example: retrain a dense MNIST MLP into HashedNets at 1/8 and 1/64, run them in WASM', load: () => import('./verbs/demo.js') },
];

const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', kind: 'boolean', help: 'show this help' };

/** "hnet 0.1.0 (.hnet format 1.0)": this package's version and the format it reads and writes. */
export function versionLine(): string {
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
  return `hnet ${version} (.hnet format ${formatVersionString(FORMAT_VERSION)})`;
}

function mainHelp(): string {
  const width = Math.max(...VERBS.map((v) => v.name.length)) + 2;
  return [
    'hnet: HashedNets for the edge — dense ONNX in, hashed .hnet out, run anywhere.',
    '',
    'usage: hnet <command> [options]     (hnet <command> --help for details)',
    '',
    'commands:',
    ...VERBS.map((v) => `  ${v.name.padEnd(width)}${v.summary}`),
    '',
    'example:',
    '  hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/8',
    '  hnet inspect mnist.hnet',
    '  hnet run mnist.hnet --input fixtures/mnist_mlp.input.npy',
    '',
    'exit codes: 0 ok, 1 internal failure, 2 bad usage, 3 bad input (file or model)',
  ].join('\n');
}

function verbHelp(entry: VerbEntry, verb: Verb): string {
  return [
    `usage: ${verb.usage}`,
    '',
    entry.summary,
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
    const entry = name === 'help' && rest[0] ? VERBS.find((v) => v.name === rest[0]) : undefined;
    io.out(entry ? verbHelp(entry, (await entry.load()).verb) : mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    io.out(versionLine());
    return EXIT.ok;
  }
  const entry = VERBS.find((v) => v.name === name);
  if (!entry) {
    io.err(`hnet: unknown command "${name}"; commands: ${VERBS.map((v) => v.name).join(', ')} (hnet --help)`);
    return EXIT.usage;
  }
  try {
    const { verb } = await entry.load();
    const args = parseArgs(rest, [...verb.flags, HELP_FLAG]);
    if (args.booleans.has('help')) {
      io.out(verbHelp(entry, verb));
      return EXIT.ok;
    }
    const [min, max] = verb.positionals;
    const n = args.positionals.length;
    if (n < min) throw new UsageError(`missing argument (usage: ${verb.usage})`);
    if (n > max) throw new UsageError(`unexpected argument "${args.positionals[max]}" (usage: ${verb.usage})`);
    await verb.run(args, io);
    return EXIT.ok;
  } catch (e) {
    return report(e, entry.name, io);
  }
}

function report(e: unknown, verb: string, io: Io): number {
  const prefix = `hnet ${verb}`;
  if (e instanceof UsageError) {
    io.err(`${prefix}: ${e.message}`);
    io.err(`run "hnet ${verb} --help" for the options and an example`);
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
  if (e instanceof NpyError || e instanceof TrainError) {
    io.err(`${prefix}: ${e.message}`);
    return EXIT.input;
  }
  if (e instanceof TargetError) {
    io.err(`${prefix}: ${e.message}`);
    return EXIT.target;
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
