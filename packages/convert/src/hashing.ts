// Dense model → HashedNet: each chosen weight keeps K bucket values, the
// least-squares projection of its dense values (hashedWeight, @hnet/format).
//
// Which weights may be hashed: those of Dense, Conv2D (grouped and depthwise
// included) and ConvTranspose layers, and Constant tensors (position
// embeddings, class tokens), under the same size rule. LayerNorm's scale and
// bias stay dense: they are few, and each one scales a whole feature.
//
// Which weights are hashed (in this order of precedence):
//   1. `dense` names a layer        → every weight of that layer stays dense;
//   2. `buckets` gives K for a layer → its weight is hashed with exactly K buckets;
//   3. otherwise a layer's weight is hashed with K = ceil(virtual × compression)
//      when compression < 1 and the weight has at least `minVirtual` virtual
//      values (tiny layers, such as a 10-way output over few features, stay
//      dense: hashing them saves little and costs accuracy);
//   4. biases stay dense unless `hashBias`, which hashes the bias of every
//      hashed layer at the same compression.
// Storage: buckets as `dtypes[layer]` ?? bucketDtype; a layer weight that stays
// dense as `dtypes[layer]` ?? denseDtype (Constants as they are); a dense bias
// as biasDtype; unset, a plain weight keeps its storage.
// Seeds: every hashed weight gets its own bucket and sign seeds, derived from
// the policy seed, the node index and name, so two layers of the same shape
// never share a hash map.

import {
  expandWeight, hashedWeight, keyGrid, MAX_ALIGNED_BLOCK, MAX_BLOCK, plainWeight, RUN_ALIGN, sizeOf, weightsOf, xxh32,
  type DType, type HashSpec, type Model, type Node, type Op, type Weight,
  METADATA_KEYS,
} from '@hnet/format';
import { ConvertError } from './errors.js';

export interface HashPolicy {
  /** Real / virtual values per hashed weight, in (0, 1]. 1 keeps every layer dense. */
  compression: number;
  /** Explicit bucket counts by layer (node) name; these layers are hashed whatever their size. */
  buckets?: Record<string, number>;
  /** Layer (node) names that stay dense. */
  dense?: string[];
  /** Seed from which every weight's bucket and sign seeds are derived (uint32). */
  seed?: number;
  /** Also hash the biases of hashed layers. */
  hashBias?: boolean;
  /** Weights with fewer virtual values stay dense unless named in `buckets`. */
  minVirtual?: number;
  /** Storage type of the bucket values (dense weights stay float32). */
  bucketDtype?: DType;
  /** Storage by layer (node) name: of its buckets over bucketDtype, or of its plain weight over denseDtype. The budget search picks one per layer. */
  dtypes?: Record<string, DType>;
  /** Storage of the biases that stay dense (default float32; int8 saves 3 bytes a bias, which counts in files of a few KiB). */
  biasDtype?: DType;
  /** Storage of the layer weights that stay dense (default: as they are, float32 from ONNX); int8 makes a 150-weight first conv 150 bytes. */
  denseDtype?: DType;
  /** false: no sign hash (ξ = +1). */
  signed?: boolean;
  /** The hash of every hashed weight (default xxh32, one per virtual weight). */
  hash?: HashSpec['algorithm'];
  /**
   * xxh32-block: columns per hash, 1..32 (default DEFAULT_BLOCK);
   * xxh32-aligned-block: 4, 8, .., 64 (default: per layer, alignedBlockFor).
   */
  block?: number;
}

export const DEFAULT_MIN_VIRTUAL = 1000;
/** The default Z of xxh32-block (docs/RESULTS.md, "Block hashing": the accuracy and speed behind it). */
export const DEFAULT_BLOCK = 32;

/**
 * The default Z of an xxh32-aligned-block layer with K buckets and `rows`
 * rows: 64 (one hash per 64 weights, the faster batch-1 streaming) when the
 * layer has at least two possible run starts per row, ⌊K/4⌋ ≥ 2·rows, else
 * 32. Two rows of a column block whose runs start together carry the same
 * weights up to sign, a whole block of them; with few starts per row that
 * happens often, and at Z = 64 it cost LeNet-5 at 1/64, whose hashed layers
 * all have fewer than two starts per row, 0.6 points (docs/RESULTS.md,
 * "Aligned block hashing": every measured layer above the line kept its
 * accuracy at 64).
 */
export function alignedBlockFor(k: number, rows: number): number {
  return Math.floor(k / RUN_ALIGN) >= 2 * rows ? MAX_ALIGNED_BLOCK : DEFAULT_BLOCK;
}

/**
 * A layer's Z for K buckets: at most K, since a run longer than the bucket
 * array would wrap onto itself and repeat buckets inside one block
 * (docs/FORMAT.md, "Why a block sign times a column pattern"); for
 * xxh32-aligned-block a multiple of 4, and 4 when K < 4 (such a run wraps).
 */
function layerBlock(algorithm: 'xxh32-block' | 'xxh32-aligned-block', block: number | undefined, k: number, rows: number): number {
  if (algorithm === 'xxh32-block') return Math.min(block ?? DEFAULT_BLOCK, k);
  return Math.max(RUN_ALIGN, Math.min(block ?? alignedBlockFor(k, rows), k - (k % RUN_ALIGN)));
}

/** The ops whose weights the policy may hash. */
const HASHABLE: readonly Op['type'][] = ['Dense', 'Conv2D', 'ConvTranspose', 'Constant'];

/** The weight and bias of a hashable node, or null. */
function hashable(op: Op): { weight: Weight; bias: Weight | null } | null {
  return HASHABLE.includes(op.type) ? weightsOf(op) : null;
}

/** The op with its weight and bias replaced. */
function withWeights(op: Op, weight: Weight, bias: Weight | null): Op {
  if (op.type === 'Constant') return { ...op, value: weight };
  return { ...op, weight, bias } as Op;
}

export interface HashOptions {
  /** Called before each weight and bias is planned (a big layer's fit takes a while): its index of `total`, and K or null (dense). */
  onWeight?: (weight: { layer: string; part: 'weight' | 'bias'; virtual: number; buckets: number | null; index: number; total: number }) => void;
}

/** One weight or bias in the hashing report. */
export interface WeightReport {
  layer: string; // node name
  nodeIndex: number;
  op: string;
  part: 'weight' | 'bias';
  shape: number[];
  virtual: number;
  real: number; // stored values (K when hashed)
  hashed: boolean;
  hash: HashSpec | null;
  dtype: DType;
  /** ‖V − W‖ / ‖W‖ between the new virtual values and the dense ones (0 for an exact copy). */
  relError: number;
}

export interface HashReport {
  weights: WeightReport[];
  virtual: number;
  real: number;
}

const utf8 = new TextEncoder();

/** The uint32 seed of one hash of one weight. */
export function deriveSeed(seed: number, nodeIndex: number, layer: string, part: string, role: 'bucket' | 'sign'): number {
  return xxh32(utf8.encode(`${nodeIndex}\u0000${layer}\u0000${part}\u0000${role}`), seed >>> 0);
}

export function hashModel(model: Model, policy: HashPolicy, options: HashOptions = {}): { model: Model; report: HashReport } {
  const { compression } = policy;
  if (!(compression > 0 && compression <= 1)) {
    throw new ConvertError('bad-policy', `compression must be in (0, 1] (real / virtual weights, e.g. 1/8), got ${compression}`);
  }
  const seed = policy.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConvertError('bad-policy', `seed must be a uint32, got ${seed}`);
  const algorithm = policy.hash ?? 'xxh32';
  if (algorithm !== 'xxh32' && algorithm !== 'xxh32-block' && algorithm !== 'xxh32-aligned-block') {
    throw new ConvertError('bad-policy', `hash must be xxh32, xxh32-block or xxh32-aligned-block, got ${String(algorithm)}`);
  }
  const block = policy.block; // undefined: the algorithm's default
  if (algorithm === 'xxh32-block' && block !== undefined && !(Number.isInteger(block) && block >= 1 && block <= MAX_BLOCK)) {
    throw new ConvertError('bad-policy', `block must be an integer in 1..${MAX_BLOCK} (columns per hash), got ${block}`);
  }
  if (algorithm === 'xxh32-aligned-block' && block !== undefined && !(Number.isInteger(block) && block >= RUN_ALIGN && block <= MAX_ALIGNED_BLOCK && block % RUN_ALIGN === 0)) {
    throw new ConvertError('bad-policy', `xxh32-aligned-block needs a block of ${RUN_ALIGN}, ${2 * RUN_ALIGN}, .., ${MAX_ALIGNED_BLOCK} columns per hash, got ${block}`);
  }
  const minVirtual = policy.minVirtual ?? DEFAULT_MIN_VIRTUAL;
  const dtype = policy.bucketDtype ?? 'float32';
  const dense = new Set(policy.dense ?? []);
  const buckets = new Map(Object.entries(policy.buckets ?? {}));
  const dtypes = new Map(Object.entries(policy.dtypes ?? {}));
  checkNames(model, [...dense, ...buckets.keys(), ...dtypes.keys()]);
  for (const [name, k] of buckets) {
    if (dense.has(name)) throw new ConvertError('bad-policy', `layer "${name}" is given both as dense and with ${k} buckets`);
    if (!Number.isInteger(k) || k < 1) throw new ConvertError('bad-policy', `buckets for "${name}" must be a positive integer, got ${k}`);
  }

  const weights: WeightReport[] = [];
  const total = model.nodes.reduce((n, node) => {
    const w = hashable(node.op);
    return n + (w ? (w.bias ? 2 : 1) : 0);
  }, 0);
  const nodes = model.nodes.map((node, index): Node => {
    const w = hashable(node.op);
    if (!w) return node;
    let layerHashed = false; // set by the weight, read by the bias
    const plan = (weight: Weight, part: 'weight' | 'bias'): Weight => {
      const virtual = sizeOf(weight.shape);
      let k: number | null = null;
      if (dense.has(node.name)) k = null;
      else if (part === 'weight' && buckets.has(node.name)) k = buckets.get(node.name)!;
      else if (part === 'weight' && compression < 1 && virtual >= minVirtual) k = Math.ceil(virtual * compression);
      else if (part === 'bias' && policy.hashBias && layerHashed) k = Math.ceil(virtual * compression);
      if (k !== null && k > virtual) {
        throw new ConvertError('bad-policy', `layer "${node.name}": ${k} buckets for ${virtual} virtual weights; use at most ${virtual}, or --dense ${node.name}`);
      }
      if (part === 'weight') layerHashed = k !== null;
      options.onWeight?.({ layer: node.name, part, virtual, buckets: k, index: weights.length, total });
      const values = expandWeight(weight);
      let next: Weight;
      if (k === null) {
        // A plain weight keeps its storage unless the policy asks for another; a hashed input weight is expanded (to float32 unless asked).
        const asked = part === 'bias' ? policy.biasDtype : dtypes.get(node.name) ?? (node.op.type === 'Constant' ? undefined : policy.denseDtype);
        const keep = weight.hash === null && (asked === undefined || weight.values.dtype === asked);
        next = keep ? weight : plainWeight(values, weight.shape, asked ?? 'float32');
      } else {
        const seeds = {
          bucketSeed: deriveSeed(seed, index, node.name, part, 'bucket'),
          signSeed: policy.signed === false ? null : deriveSeed(seed, index, node.name, part, 'sign'),
        };
        const hash: HashSpec = algorithm === 'xxh32' ? { algorithm, ...seeds } : { algorithm, ...seeds, block: layerBlock(algorithm, block, k, keyGrid(weight.shape).rows) };
        next = hashedWeight(values, weight.shape, hash, k, dtypes.get(node.name) ?? dtype);
      }
      weights.push({
        layer: node.name, nodeIndex: index, op: node.op.type, part, shape: [...weight.shape], virtual,
        real: next.values.data.length, hashed: next.hash !== null, hash: next.hash, dtype: next.values.dtype,
        relError: relativeError(values, expandWeight(next)),
      });
      return next;
    };
    const weight = plan(w.weight, 'weight');
    const bias = w.bias ? plan(w.bias, 'bias') : null;
    return { ...node, op: withWeights(node.op, weight, bias) };
  });

  const policyNote = {
    compression, seed, minVirtual, hashBias: !!policy.hashBias, bucketDtype: dtype, signed: policy.signed !== false,
    // the policy's Z; for xxh32-aligned-block without one, "per layer" (each weight records its own)
    hash: algorithm, ...(algorithm === 'xxh32' ? {} : { block: block ?? (algorithm === 'xxh32-block' ? DEFAULT_BLOCK : 'per layer') }),
    ...(policy.biasDtype && policy.biasDtype !== 'float32' ? { biasDtype: policy.biasDtype } : {}),
    ...(policy.denseDtype && policy.denseDtype !== 'float32' ? { denseDtype: policy.denseDtype } : {}),
    ...(buckets.size ? { buckets: Object.fromEntries(buckets) } : {}), ...(dtypes.size ? { dtypes: Object.fromEntries(dtypes) } : {}),
    ...(dense.size ? { dense: [...dense] } : {}),
  };
  const out: Model = {
    ...model, nodes,
    metadata: { ...model.metadata, [METADATA_KEYS.hashPolicy]: JSON.stringify(policyNote) },
  };
  return {
    model: out,
    report: {
      weights,
      virtual: weights.reduce((s, w) => s + w.virtual, 0),
      real: weights.reduce((s, w) => s + w.real, 0),
    },
  };
}

/** ‖a − b‖ / ‖a‖ (0 when both are zero). */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += a[i] ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

function checkNames(model: Model, names: string[]): void {
  const layers = model.nodes.filter((n) => hashable(n.op)).map((n) => n.name);
  const unknown = names.filter((n) => !layers.includes(n));
  if (unknown.length) {
    const named = layers.filter(Boolean);
    // A stripped file (--strip) has no node names to give.
    const which = named.length ? `the layers are: ${named.join(', ')}` : 'its layers have no names (a stripped file: convert the original model instead)';
    throw new ConvertError('bad-policy', `no Dense/Conv2D layer named ${unknown.map((n) => `"${n}"`).join(', ')} (nor ConvTranspose or Constant, the other hashable nodes); ${which}`);
  }
}
