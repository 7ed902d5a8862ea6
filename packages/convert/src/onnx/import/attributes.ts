// The attributes a converter declares, and the one reader that checks them.
//
// A converter lists every attribute it understands with its kind and ONNX
// default (`{ alpha: float(0.01), pads: ints() }`); the reader refuses any
// other attribute, and any declared one of the wrong type, naming both. A
// wrong type must not read as 0 (Gemm transB=1.0 as FLOAT would silently
// become transB = 0); onnx.checker refuses these models too.

import { onnx, toSafeInteger, type AttributeProto, type NodeProto, type TensorProto } from '../proto.js';
import { refuse } from './refusal.js';

const AttributeType = onnx.AttributeProto.AttributeType;

export type AttrKind = 'int' | 'float' | 'ints' | 'floats' | 'string' | 'tensor';

/** One declared attribute: its kind and the value it has when absent. */
export interface AttrDef<T> {
  kind: AttrKind;
  fallback: T;
}

export type AttrSpec = Record<string, AttrDef<unknown>>;

/** The values of a spec's attributes, typed by their declarations. */
export type AttrValues<S extends AttrSpec> = { [K in keyof S]: S[K] extends AttrDef<infer T> ? T : never } & {
  /** Whether the node carries the attribute (for ops whose meaning changes when one is given). */
  readonly given: ReadonlySet<string>;
};

export const int = <T extends number | null = number>(fallback: T): AttrDef<number | T> => ({ kind: 'int', fallback });
export const float = <T extends number | null = number>(fallback: T): AttrDef<number | T> => ({ kind: 'float', fallback });
export const ints = (fallback: number[] | null = null): AttrDef<number[] | null> => ({ kind: 'ints', fallback });
export const floats = (fallback: number[] | null = null): AttrDef<number[] | null> => ({ kind: 'floats', fallback });
export const string = <T extends string | null = string>(fallback: T): AttrDef<string | T> => ({ kind: 'string', fallback });
export const tensor = (): AttrDef<TensorProto | null> => ({ kind: 'tensor', fallback: null });

const PROTO_TYPE: Record<AttrKind, number> = {
  int: AttributeType.INT,
  float: AttributeType.FLOAT,
  ints: AttributeType.INTS,
  floats: AttributeType.FLOATS,
  string: AttributeType.STRING,
  tensor: AttributeType.TENSOR,
};

export const attributeTypeName = (t: number): string => (AttributeType as unknown as Record<number, string>)[t] ?? `type ${t}`;

/** An attribute of the expected type, or refused. */
export function typedAttribute(a: AttributeProto, expected: number): AttributeProto {
  const found = a.type ?? AttributeType.UNDEFINED;
  if (found !== expected) refuse(`attribute ${a.name} must be ${attributeTypeName(expected)}, found ${attributeTypeName(found)}`);
  return a;
}

/** An int64 attribute value as a number, refused beyond ±2^53 rather than rounded. */
export function exactInteger(v: Parameters<typeof toSafeInteger>[0], a: AttributeProto): number {
  return toSafeInteger(v) ?? refuse(`attribute ${a.name}: int64 value ${String(v)} is beyond ±2^53, which hnet cannot hold exactly`);
}

function valueOf(a: AttributeProto, kind: AttrKind): unknown {
  typedAttribute(a, PROTO_TYPE[kind]);
  switch (kind) {
    case 'int': return exactInteger(a.i, a);
    case 'float': return a.f ?? 0;
    case 'ints': return (a.ints ?? []).map((v) => exactInteger(v, a));
    case 'floats': return [...(a.floats ?? [])];
    case 'string': return a.s ? new TextDecoder().decode(a.s) : '';
    case 'tensor': return a.t ?? {};
  }
}

/** Reads every attribute of `node` against `spec`: unknown names first (all of them), then types. */
export function readAttributes<S extends AttrSpec>(node: NodeProto, spec: S): AttrValues<S> {
  const present = node.attribute ?? [];
  const unknown = present.map((a) => a.name ?? '').filter((n) => !Object.hasOwn(spec, n));
  if (unknown.length) refuse(`attribute${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not supported`);
  const values: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(spec)) values[name] = def.fallback;
  for (const a of present) values[a.name ?? ''] = valueOf(a, spec[a.name ?? ''].kind);
  values.given = new Set(present.map((a) => a.name ?? ''));
  return values as AttrValues<S>;
}
