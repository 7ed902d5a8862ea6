// A finished hnet graph as the passes see it: who produces and who reads
// each tensor, the values of Constant nodes, and in-place edits.

import { expandWeight, inferShapes, type Model, type Node } from '@hnet/format';

export class Graph {
  private producers = new Map<string, Node>();
  private readers = new Map<string, Node[]>();
  private shapeCache: Map<string, number[]> | null = null;

  constructor(readonly model: Model) {
    this.refresh();
  }

  get nodes(): Node[] {
    return this.model.nodes;
  }

  /** Rebuilds the indices after an edit; `keepShapes` when the edit leaves every remaining tensor's shape as it was. */
  refresh(keepShapes = false): void {
    this.producers = new Map();
    this.readers = new Map();
    if (!keepShapes) this.shapeCache = null;
    for (const node of this.model.nodes) {
      this.producers.set(node.outputs[0], node);
      for (const name of node.inputs) {
        // Appended in place: one constant read by 10k nodes made a copy per reader (cubic over a chain of folds).
        const readers = this.readers.get(name);
        if (readers) readers.push(node);
        else this.readers.set(name, [node]);
      }
    }
  }

  producer(name: string): Node | undefined {
    return this.producers.get(name);
  }

  consumers(name: string): Node[] {
    return this.readers.get(name) ?? [];
  }

  isOutput(name: string): boolean {
    return this.model.outputs.some((o) => o.name === name);
  }

  /** Whether `name` is read by exactly one node and is not a graph output, so its producer may be changed. */
  soleUse(name: string, by: Node): boolean {
    const c = this.consumers(name);
    return c.length === 1 && c[0] === by && !this.isOutput(name);
  }

  /** The value of a tensor produced by a Constant node. */
  constant(name: string): { values: Float32Array; shape: number[] } | null {
    const p = this.producers.get(name);
    if (!p || p.op.type !== 'Constant') return null;
    return { values: expandWeight(p.op.value), shape: p.op.value.shape };
  }

  /** A Constant that holds one value (any shape of size 1). */
  scalar(name: string): number | null {
    const c = this.constant(name);
    return c && c.values.length === 1 ? c.values[0] : null;
  }

  shape(name: string): number[] {
    this.shapeCache ??= inferShapes(this.model);
    return this.shapeCache.get(name)!;
  }

  /**
   * Removes nodes (by identity) and refreshes. The shapes stay: a fold hands
   * the removed node's output, of the same shape, to the layer before it, and
   * an unused node's removal changes no other tensor (re-inferring them after
   * every fold was quadratic in a chain of folds).
   */
  remove(...nodes: Node[]): void {
    const gone = new Set(nodes);
    this.model.nodes = this.model.nodes.filter((n) => !gone.has(n));
    this.refresh(true);
  }

  /**
   * Removes `node` and gives its output to `taker`, whose own output only
   * `node` read (a fold into the layer before it). The indices are updated in
   * place, since a refresh per fold made a chain of folds quadratic.
   */
  handOver(node: Node, taker: Node): void {
    const old = taker.outputs[0];
    taker.outputs[0] = node.outputs[0];
    this.model.nodes.splice(this.model.nodes.indexOf(node), 1);
    this.producers.delete(old);
    this.producers.set(taker.outputs[0], taker);
    this.readers.delete(old);
    for (const name of new Set(node.inputs)) {
      if (name === old) continue;
      const rest = this.consumers(name).filter((n) => n !== node);
      if (rest.length) this.readers.set(name, rest);
      else this.readers.delete(name);
    }
  }

  /** Replaces the nodes of a matched pattern by one node, placed where the last of them was. */
  replace(pattern: Node[], by: Node): void {
    const gone = new Set(pattern);
    const last = Math.max(...pattern.map((n) => this.model.nodes.indexOf(n)));
    const nodes: Node[] = [];
    this.model.nodes.forEach((n, i) => {
      if (i === last) nodes.push(by);
      if (!gone.has(n)) nodes.push(n);
    });
    this.model.nodes = nodes;
    this.refresh();
  }
}

/** The other input of a two-input node, given one of them. */
export const otherInput = (node: Node, name: string): string => (node.inputs[0] === name ? node.inputs[1] : node.inputs[0]);
