// How a converter refuses a node: it throws a Refusal with the reason, and the
// driver collects every refusal into the one ConvertError of the import.

/** Thrown inside a converter to refuse one node; collected into the final error. */
export class Refusal extends Error {}

export const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

/** A node skipped because an input came from a refused node (already listed). */
export class Upstream extends Error {}
