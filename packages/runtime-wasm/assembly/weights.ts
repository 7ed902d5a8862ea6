// The weights of a loaded model in one mode, and the heap blocks that hold
// them (the twin of packages/format/src/weights.ts, which expands weights in
// TypeScript):
//   plain weights and biases as f32; hashed weights either expanded to f32
//   (materialized) or kept as stored buckets (streaming), with a tile of a few
//   virtual weight rows (about 32 KiB) rebuilt from the hash for each group of
//   output units, once per run (or, for an xxh32-block Dense at batch 1, no
//   weight rows at all: runtime.ts calls blockGemv, which reads the runs in
//   place and keeps its per-row partial sums and hashes in the tile).

import { Model, Weight, OP_DENSE, DT_INT4, storedBytes } from "./model";
import { blockGemvScratchBytes, decodeValues, expandRow, nibbleAt, runPad } from "./kernels";

export const MODE_AUTO: i32 = 0;
export const MODE_MATERIALIZED: i32 = 1;
export const MODE_STREAMING: i32 = 2;

export function align16(x: u64): u64 {
  return (x + 15) & ~(<u64>15);
}

/** Bytes of memory the model's weights take in a mode (arena excluded). */
export function weightBytes(m: Model, mode: i32): u64 {
  let total: u64 = 0;
  for (let i = 0; i < m.nodes.length; i++) {
    const n = m.nodes[i];
    const w = n.weight;
    if (w != null) {
      if (w.hashed && mode == MODE_STREAMING) total += align16(streamingBytes(w));
      else total += align16(<u64>w.size * 4);
    }
    const b = n.bias;
    if (b != null) total += align16(<u64>b.size * 4);
    const s = n.scale;
    if (s != null) total += align16(<u64>s.size * 4);
  }
  return total;
}

/** Bytes of a hashed weight's streaming copy: its stored buckets, then the first ones again (runPad). */
function streamingBytes(w: Weight): u64 {
  const values = <u64>w.count + runPad(w);
  return w.dtype == DT_INT4 ? (values + 1) >> 1 : values * storedBytes(w.dtype, 1);
}

/** Target size of the streaming tile (floats): 32 KiB, about an L1 cache. */
const TILE_TARGET: i32 = 8192;

/** Weight rows rebuilt per streaming tile: as many as fit the target, at least 2 (the gemm block). */
function tileRows(w: Weight): i32 {
  return min(w.rows, max(2, TILE_TARGET / w.cols));
}

/**
 * Floats of the streaming tile: the largest tile of any hashed weight, or
 * blockGemv's scratch for a block-hashed Dense (8 floats per weight row and
 * a block of x), which uses the tile instead of weight rows at batch 1.
 */
export function tileFloats(m: Model): i32 {
  let floats = 0;
  for (let i = 0; i < m.nodes.length; i++) {
    const n = m.nodes[i];
    const w = n.weight;
    if (w != null && w.hashed) floats = max(floats, tileRows(w) * w.cols);
    if (w != null && w.hashed && n.op == OP_DENSE) floats = max(floats, blockGemvScratchBytes(w) >> 2);
  }
  return floats;
}

/** Sets nibble k of int4 storage (kernels.ts: nibbleAt) to v (0..15), leaving the byte's other nibble as it is. */
function setNibble(p: usize, k: u32, v: u8): void {
  const at = p + (<usize>k >> 1);
  const shift = <u8>(k & 1) << 2;
  store<u8>(at, (load<u8>(at) & ~(<u8>0xf << shift)) | (v << shift));
}

export class Weights {
  blocks: usize[] = [];        // every heap block of the weights
  tile: usize = 0;             // streaming row buffer
  tileBytes: u64 = 0;
  bytes: u64 = 0;              // weights + tile

  alloc(bytes: u64): usize {
    const p = heap.alloc(<usize>max<u64>(bytes, 16));
    this.blocks.push(p);
    return p;
  }

  release(): void {
    for (let i = 0; i < this.blocks.length; i++) heap.free(this.blocks[i]);
    this.blocks.length = 0;
  }

  /** Builds every weight of the model from the file bytes at `file`, in `mode`. */
  build(file: usize, m: Model, mode: i32): void {
    const tile = align16(<u64>tileFloats(m) * 4);
    if (mode == MODE_STREAMING && tile > 0) { this.tile = this.alloc(tile); this.tileBytes = tile; }
    for (let i = 0; i < m.nodes.length; i++) {
      const n = m.nodes[i];
      const w = n.weight;
      if (w != null) this.buildWeight(file, w, mode);
      const b = n.bias;
      if (b != null) this.buildWeight(file, b, MODE_MATERIALIZED); // biases are small: always f32
      const s = n.scale;
      if (s != null) this.buildWeight(file, s, MODE_MATERIALIZED); // LayerNorm's scale too
    }
    this.bytes = weightBytes(m, mode) + this.tileBytes;
  }

  buildWeight(file: usize, w: Weight, mode: i32): void {
    const src = file + w.dataPos;
    if (!w.hashed) {
      w.dense = this.alloc(<u64>w.size * 4);
      decodeValues(src, w.dtype, w.scale, w.size, w.dense);
    } else if (mode == MODE_STREAMING) {
      const bytes = storedBytes(w.dtype, w.count);
      w.stored = this.alloc(streamingBytes(w));
      memory.copy(w.stored, src, <usize>bytes);
      // bucket K + i is bucket i mod K again (Z may exceed K)
      if (w.dtype == DT_INT4) {
        for (let i: u32 = 0; i < runPad(w); i++) setNibble(w.stored, w.count + i, nibbleAt(src, i % w.count));
      } else {
        const valueBytes = <usize>storedBytes(w.dtype, 1);
        for (let i: u32 = 0; i < runPad(w); i++) {
          memory.copy(w.stored + <usize>bytes + <usize>i * valueBytes, src + <usize>(i % w.count) * valueBytes, valueBytes);
        }
      }
    } else {
      w.dense = this.alloc(<u64>w.size * 4);
      const rowBytes = <usize>w.cols << 2;
      for (let r = 0; r < w.rows; r++) expandRow(w, src, r, w.dense + <usize>r * rowBytes);
    }
  }

  /** Rows r0 .. r0 + count of a weight as f32: a slice of the dense tensor, or rebuilt in the tile. */
  rows(w: Weight, r0: i32, count: i32): usize {
    const rowBytes = <usize>w.cols << 2;
    if (w.dense != 0) return w.dense + <usize>r0 * rowBytes;
    for (let r = 0; r < count; r++) expandRow(w, w.stored, r0 + r, this.tile + <usize>r * rowBytes);
    return this.tile;
  }

  /** How many weight rows one gemm call takes: all of them when materialized, a tile when streaming. */
  rowsPerCall(w: Weight): i32 {
    return w.dense != 0 ? w.rows : tileRows(w);
  }
}
