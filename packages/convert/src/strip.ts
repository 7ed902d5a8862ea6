// A stripped model (`hnet convert --strip`, as `strip` does for a binary): everything needed to
// run and use it, nothing that is only informational. In a file of a few KiB, PyTorch's names
// ("/c1/Conv_output_0") and the provenance metadata are a fifth of the bytes (LeNet at 1/8, int4: 1.7 of 8 KB).
//   kept:    the graph, every weight, the graph inputs' and outputs' names and shapes (what a
//            caller feeds and reads), and the metadata a reader acts on (USAGE_METADATA_KEYS:
//            the input preprocessing);
//   dropped: node names (optional in the format; messages then say "nodes[3] (Conv2D)"),
//            the other metadata (source, digest, converter, hash.policy, the training record);
//   renamed: intermediate tensors, to t0, t1, ... in graph order (names must be unique and
//            non-empty, and a short one costs the least: 8 bytes up to 3 characters).

import { USAGE_METADATA_KEYS, type Model } from '@hnet/format';

export interface StripReport {
  /** Metadata keys dropped, in file order. */
  metadata: string[];
  /** Nodes that had a name. */
  nodeNames: number;
  /** Intermediate tensors renamed. */
  tensors: number;
}

export function stripModel(model: Model): { model: Model; report: StripReport } {
  const kept = new Set(USAGE_METADATA_KEYS);
  const metadata = Object.fromEntries(Object.entries(model.metadata).filter(([key]) => kept.has(key)));
  const { model: renamed, renamedTensors } = shortTensorNames(model);
  return {
    model: { ...renamed, nodes: renamed.nodes.map((n) => ({ ...n, name: '' })), metadata },
    report: {
      metadata: Object.keys(model.metadata).filter((key) => !kept.has(key)),
      nodeNames: model.nodes.filter((n) => n.name).length,
      tensors: renamedTensors,
    },
  };
}

/** The model with every tensor that is not a graph input or output named t0, t1, ... (skipping names those already use). */
function shortTensorNames(model: Model): { model: Model; renamedTensors: number } {
  const external = new Set([...model.inputs, ...model.outputs].map((t) => t.name));
  const names = new Map<string, string>();
  let next = 0;
  const rename = (name: string): string => {
    if (external.has(name)) return name;
    let short = names.get(name);
    if (short === undefined) {
      do short = `t${next++}`; while (external.has(short));
      names.set(name, short);
    }
    return short;
  };
  const nodes = model.nodes.map((n) => ({ ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) }));
  return { model: { ...model, nodes }, renamedTensors: names.size };
}
