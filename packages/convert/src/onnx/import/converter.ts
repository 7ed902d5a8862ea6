// What a converter is: one ONNX op (or a family of ops that share a
// conversion), the opsets it reads, the attributes it understands, and two
// functions — `convert`, which emits hnet nodes for a node whose data is
// computed, and `fold`, which evaluates the node when every input is known at
// import (constant folding). A converter only reads its own node's inputs and
// emits new hnet nodes; rewrites that look at several nodes are passes
// (../passes/), run over the finished graph.

import type { Op } from '@hnet/format';
import type { NodeProto } from '../proto.js';
import type { AttrSpec, AttrValues } from './attributes.js';
import type { FoldBudget, Known } from './known.js';

/** What a converter sees of the node it converts and of the graph so far. */
export interface NodeContext<S extends AttrSpec = AttrSpec> {
  readonly opType: string;
  readonly opset: number;
  /** The node's name (or "#index"), used as the name of the hnet node(s) it becomes. */
  readonly label: string;
  readonly attrs: AttrValues<S>;
  /** The ONNX input names ("" for an omitted optional input). */
  readonly inputs: readonly string[];
  /** The ONNX output names (output 0 is `out`). */
  readonly outputs: readonly string[];
  readonly out: string;
  /** Whether input i is given (ONNX marks an omitted optional input with ""). */
  has(i: number): boolean;
  /** Input i when it is known at import (a constant or folded shape arithmetic), else null. */
  known(i: number): Known | null;
  /** Input i, which must be known at import; `what` names it in the refusal. */
  constant(i: number, what: string): Known;
  optionalConstant(i: number, what: string): Known | null;
  /** Whether an ONNX output is read by any node or is a graph output. */
  used(output: string): boolean;
  /** What folding may still allocate in this import; every fold charges it before allocating. */
  readonly budget: FoldBudget;
}

export interface ConvertContext<S extends AttrSpec = AttrSpec> extends NodeContext<S> {
  /** The name of input i, which must be computed (not a constant). */
  data(i: number): string;
  /** Input i as a tensor of the hnet graph: computed, or a Constant node holding its value. */
  operand(i: number): string;
  /** The shape of a computed tensor (-1: the batch). */
  shape(name: string): number[];
  /** The coefficient k of a computed tensor's batch dimension, which holds N·k elements. */
  batchScale(name: string): number;
  /** Emits one hnet node and returns its output's name (`output`, default `out`); `suffix` names a helper node. */
  emit(op: Op, inputs: string[], output?: string, suffix?: string): string;
  /** A fresh tensor name for a helper node's output. */
  temp(suffix: string): string;
  /** Declares an output known at import (Shape of a computed tensor). */
  define(output: string, value: Known): void;
  /** Makes an output another name for a tensor (a node that changes nothing). */
  alias(output: string, input: string): void;
  /** A line of the import report: what was folded, fused or dropped. */
  note(text: string): void;
}

export interface Converter<S extends AttrSpec = AttrSpec> {
  readonly opTypes: readonly string[];
  /** Default-domain opsets this converter reads, inclusive. */
  readonly opsets: readonly [min: number, max: number];
  readonly attributes: S;
  convert(ctx: ConvertContext<S>, node: NodeProto): void;
  /**
   * The outputs of the node when every input is known (omitted optional inputs
   * are null); null when the result cannot be known at import (an Expand of a
   * constant to the batch size), and the node is converted instead.
   */
  fold?(ctx: NodeContext<S>, inputs: (Known | null)[], node: NodeProto): Known[] | null;
}

/** Declares a converter (the identity: it lets TypeScript infer the attribute types from `attributes`). */
export function converter<S extends AttrSpec>(c: Converter<S>): Converter<S> {
  return c;
}

/** The newest default-domain opset any converter has been written against. */
export const LATEST_OPSET = 22;
