// The verbs of `hnet`, in help order. Another package adds one with
// registerVerb (train, eval, bench) before main() runs.

import type { Verb } from './verb.js';
import { convertVerb } from './verbs/convert.js';
import { exportOnnxVerb } from './verbs/export-onnx.js';
import { inspectVerb } from './verbs/inspect.js';
import { runVerb } from './verbs/run.js';

const verbs: Verb[] = [convertVerb, exportOnnxVerb, runVerb, inspectVerb];

export function registerVerb(verb: Verb): void {
  const i = verbs.findIndex((v) => v.name === verb.name);
  if (i >= 0) verbs[i] = verb;
  else verbs.push(verb);
}

export function allVerbs(): readonly Verb[] {
  return verbs;
}

export function findVerb(name: string): Verb | undefined {
  return verbs.find((v) => v.name === name);
}
