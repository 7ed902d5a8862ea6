// Graphs with many nodes or inputs, for the planner's complexity tests.
import type { Model } from '@hnet/format';

/** x, then y1 = x + x, y2 = y1 + x, ...: `length` Add nodes in a chain. */
export function addChain(length: number): Model {
  const nodes: Model['nodes'] = [];
  let previous = 'x';
  for (let i = 1; i <= length; i++) {
    const y = `y${i}`;
    nodes.push({ name: `add${i}`, op: { type: 'Add' }, inputs: [previous, 'x'], outputs: [y] });
    previous = y;
  }
  return { inputs: [{ name: 'x', shape: [-1, 4] }], outputs: [{ name: previous, shape: [-1, 4] }], nodes, metadata: {} };
}

/** `count` graph inputs x0, x1, ...; the output is x0 + x1. */
export function manyInputs(count: number): Model {
  const inputs = Array.from({ length: count }, (_, i) => ({ name: `x${i}`, shape: [-1, 4] }));
  return {
    inputs,
    outputs: [{ name: 'y', shape: [-1, 4] }],
    nodes: [{ name: 'add', op: { type: 'Add' }, inputs: ['x0', 'x1'], outputs: ['y'] }],
    metadata: {},
  };
}
