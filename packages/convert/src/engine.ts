// Engines run a model on named input tensors. `hnet run --engine NAME` picks
// one from this registry; the reference engine is the plain-TS forward pass of
// @hnet/format (the semantic oracle). Other packages add theirs with
// registerEngine (the WASM runtime: { name: 'wasm', ... }).

import { runReference, type Model, type Tensor } from '@hnet/format';

export interface Engine {
  name: string;
  description: string;
  run(model: Model, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> | Record<string, Tensor>;
}

const engines = new Map<string, Engine>();

export function registerEngine(engine: Engine): void {
  engines.set(engine.name, engine);
}

export function getEngine(name: string): Engine | undefined {
  return engines.get(name);
}

export function engineNames(): string[] {
  return [...engines.keys()];
}

registerEngine({
  name: 'reference',
  description: 'plain TypeScript forward pass of @hnet/format (slow, exact)',
  run: (model, inputs) => runReference(model, inputs),
});
