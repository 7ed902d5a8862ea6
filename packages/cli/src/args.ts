// A small argument parser: positionals, `--flag value`, `--flag=value`,
// `-o value`, repeatable flags and booleans. Anything unknown is a UsageError
// (exit code 2), never silently ignored.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  name: string; // without dashes: "compression"
  short?: string; // one letter: "o"
  kind: 'boolean' | 'string' | 'list'; // list: repeatable, collected in order
  value?: string; // placeholder in help: "FRACTION"
  help: string;
}

export interface ParsedArgs {
  positionals: string[];
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  booleans: Set<string>;
}

export function parseArgs(argv: readonly string[], flags: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const parsed: ParsedArgs = { positionals: [], strings: new Map(), lists: new Map(), booleans: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const eq = arg.indexOf('=');
    const key = long ? arg.slice(2, eq < 0 ? undefined : eq) : arg.slice(1, 2);
    const spec = long ? byName.get(key) : byShort.get(key);
    if (!spec) throw new UsageError(`unknown option ${long ? `--${key}` : `-${key}`}`);
    let inline: string | undefined;
    if (long && eq >= 0) inline = arg.slice(eq + 1);
    else if (!long && arg.length > 2) inline = arg.slice(2);
    if (spec.kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${spec.name} takes no value`);
      parsed.booleans.add(spec.name);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${spec.name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
    if (spec.kind === 'string') {
      if (parsed.strings.has(spec.name)) throw new UsageError(`--${spec.name} is given twice`);
      parsed.strings.set(spec.name, value);
    } else {
      parsed.lists.set(spec.name, [...(parsed.lists.get(spec.name) ?? []), value]);
    }
  }
  return parsed;
}

/** Formats the flag list of a help text. */
export function flagHelp(flags: readonly FlagSpec[]): string {
  const left = flags.map((f) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return flags.map((f, i) => `  ${left[i].padEnd(width)}${f.help}`).join('\n');
}

/** A fraction "1/8", "0.125" or "12.5%". */
export function parseFraction(text: string, flag: string): number {
  const t = text.trim();
  let v: number;
  const slash = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(t);
  if (slash) v = Number(slash[1]) / Number(slash[2]);
  else if (t.endsWith('%')) v = Number(t.slice(0, -1)) / 100;
  else v = Number(t);
  if (!(v > 0 && v <= 1)) throw new UsageError(`--${flag} must be a fraction in (0, 1] such as 1/8, 0.125 or 12.5%, got "${text}"`);
  return v;
}

export function parseInteger(text: string, flag: string, min: number, max: number): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || v < min || v > max) throw new UsageError(`--${flag} must be an integer in [${min}, ${max}], got "${text}"`);
  return v;
}
