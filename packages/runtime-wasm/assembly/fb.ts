// A bounds-checked FlatBuffers reader for schemas/hnet.fbs.
//
// FlatBuffers in one paragraph: the file starts with a uint32 offset to the
// root table (and here the 4-byte identifier "HNET"). A table starts with an
// int32 `soffset`; its vtable sits at table - soffset and holds uint16
// [vtable size, table size, offset of field 0, offset of field 1, ...], where
// 0 means "absent, use the default". Reference fields (tables, vectors,
// strings) hold a uint32 offset relative to the field's own position. A vector
// is a uint32 length followed by its elements; a string is a byte vector.
//
// Every read goes through `has`, so a corrupt file makes the reader record an
// error and return zeros, never read outside the file. Callers check
// `failed()` after each table and stop. Loops over vectors are bounded by the
// file size because each element takes at least one byte of it.

import { E_TRUNCATED, E_INVALID, fail, failed } from "./errors";

export class Vec {
  constructor(public start: u32, public length: u32) {}
}

const EMPTY = new Vec(0, 0);

export class Reader {
  /**
   * Bytes decoded so far (strings and the vectors the parser copies). Many
   * offsets may point at one table or string, so a small file could decode to
   * gigabytes; without aliasing each byte is decoded once. The same bound as
   * @hnet/format's decoder (docs/FORMAT.md, "Reader rules"): twice the file
   * size plus 4 KiB. Weight data is not counted: the memory budget bounds it.
   */
  decoded: u64 = 0;

  constructor(public ptr: usize, public size: u32) {}

  /** Counts `bytes` more decoded bytes; records an error past the bound. */
  charge(bytes: u64, what: string): bool {
    this.decoded += bytes;
    const bound = 2 * <u64>this.size + 4096;
    if (this.decoded <= bound) return true;
    return fail(E_INVALID, what + ": the " + this.size.toString() + "-byte file decodes to more than " + bound.toString() +
      " bytes: many offsets point at the same data (aliased tables), which no hnet writer produces");
  }

  /** True when [pos, pos + bytes) lies inside the file; records an error otherwise. */
  has(pos: u64, bytes: u64, what: string): bool {
    if (failed()) return false;
    if (pos + bytes > <u64>this.size) {
      return fail(E_TRUNCATED, what + ": bytes " + pos.toString() + ".." + (pos + bytes).toString() +
        " lie outside the file (" + this.size.toString() + " bytes); truncated or corrupt");
    }
    return true;
  }

  u8(pos: u32, what: string): u32 {
    return this.has(pos, 1, what) ? <u32>load<u8>(this.ptr + pos) : 0;
  }
  u16(pos: u32, what: string): u32 {
    return this.has(pos, 2, what) ? <u32>load<u16>(this.ptr + pos) : 0;
  }
  u32(pos: u32, what: string): u32 {
    return this.has(pos, 4, what) ? load<u32>(this.ptr + pos) : 0;
  }
  i32(pos: u32, what: string): i32 {
    return this.has(pos, 4, what) ? load<i32>(this.ptr + pos) : 0;
  }
  f32(pos: u32, what: string): f32 {
    return this.has(pos, 4, what) ? load<f32>(this.ptr + pos) : 0;
  }
  i64(pos: u32, what: string): i64 {
    return this.has(pos, 8, what) ? load<i64>(this.ptr + pos) : 0;
  }

  /** Position of field `id` of the table at `table`, or 0 when the field is absent. */
  field(table: u32, id: i32, what: string): u32 {
    if (table == 0) return 0;
    const soffset = this.i32(table, what);
    const vtable = <i64>table - <i64>soffset;
    if (failed()) return 0;
    if (vtable < 0 || !this.has(<u64>vtable, 4, what)) {
      if (vtable < 0) fail(E_TRUNCATED, what + ": vtable offset points before the file");
      return 0;
    }
    const vt = <u32>vtable;
    const vtSize = this.u16(vt, what);
    const tableSize = this.u16(vt + 2, what);
    if (vtSize < 4 || (vtSize & 1) != 0) {
      fail(E_INVALID, what + ": vtable size " + vtSize.toString() + " is not valid");
      return 0;
    }
    if (!this.has(vt, vtSize, what) || !this.has(table, tableSize, what)) return 0;
    const slot: u32 = 4 + 2 * <u32>id;
    if (slot + 2 > vtSize) return 0; // written by an older writer: absent
    const offset = this.u16(vt + slot, what);
    if (offset == 0) return 0;
    if (offset < 4 || offset >= tableSize) {
      fail(E_INVALID, what + ": field offset " + offset.toString() + " outside its table (" + tableSize.toString() + " bytes)");
      return 0;
    }
    return table + offset;
  }

  /** Follows the uint32 offset stored at `pos` (a reference field or vector element). */
  deref(pos: u32, what: string): u32 {
    const offset = this.u32(pos, what);
    if (failed()) return 0;
    const target = <u64>pos + <u64>offset;
    if (!this.has(target, 4, what)) return 0;
    return <u32>target;
  }

  /** The table a field refers to, or 0 when absent (an error when `required`). */
  table(parent: u32, id: i32, what: string, required: bool): u32 {
    const pos = this.field(parent, id, what);
    if (pos == 0) {
      if (required && !failed()) fail(E_INVALID, what + " is required but absent");
      return 0;
    }
    return this.deref(pos, what);
  }

  /** A vector field with elements of `elemSize` bytes; length 0 when absent. */
  vector(parent: u32, id: i32, elemSize: u32, what: string, required: bool): Vec {
    const pos = this.field(parent, id, what);
    if (pos == 0) {
      if (required && !failed()) fail(E_INVALID, what + " is required but absent");
      return EMPTY;
    }
    const start = this.deref(pos, what);
    const length = this.u32(start, what);
    if (failed() || !this.has(<u64>start + 4, <u64>length * elemSize, what)) return EMPTY;
    return new Vec(start + 4, length);
  }

  /** The table at element i of a vector of tables. */
  tableAt(vec: Vec, i: u32, what: string): u32 {
    return this.deref(vec.start + 4 * i, what);
  }

  /** A string field ("" when absent). Invalid UTF-8 is an error, as in @hnet/format. */
  string(parent: u32, id: i32, what: string, required: bool): string {
    const v = this.vector(parent, id, 1, what, required);
    // The terminating zero must be in the file too, as @hnet/format (and the FlatBuffers verifier) require.
    if (v.start == 0 || !this.has(<u64>v.start, <u64>v.length + 1, what)) return "";
    if (v.length == 0 || !this.charge(v.length, what)) return "";
    if (!validUtf8(this.ptr + v.start, v.length)) { fail(E_INVALID, what + ": the string is not valid UTF-8"); return ""; }
    return String.UTF8.decodeUnsafe(this.ptr + v.start, v.length);
  }

  /** Scalar fields with their schema defaults. */
  fieldU8(table: u32, id: i32, dflt: u32, what: string): u32 {
    const pos = this.field(table, id, what);
    return pos == 0 ? dflt : this.u8(pos, what);
  }
  fieldU32(table: u32, id: i32, dflt: u32, what: string): u32 {
    const pos = this.field(table, id, what);
    return pos == 0 ? dflt : this.u32(pos, what);
  }
  fieldI32(table: u32, id: i32, dflt: i32, what: string): i32 {
    const pos = this.field(table, id, what);
    return pos == 0 ? dflt : this.i32(pos, what);
  }
  fieldF32(table: u32, id: i32, dflt: f32, what: string): f32 {
    const pos = this.field(table, id, what);
    return pos == 0 ? dflt : this.f32(pos, what);
  }
}

/**
 * Well-formed UTF-8 (the Unicode definition, as TextDecoder's fatal mode):
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
function validUtf8(p: usize, n: u32): bool {
  let i: u32 = 0;
  while (i < n) {
    const c = <u32>load<u8>(p + i);
    if (c < 0x80) { i++; continue; }
    let need: u32 = 0;
    let lo: u32 = 0x80, hi: u32 = 0xbf; // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) { need = 2; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else return false;
    if (n - i <= need) return false;
    const c1 = <u32>load<u8>(p + i + 1);
    if (c1 < lo || c1 > hi) return false;
    for (let k: u32 = 2; k <= need; k++) {
      const ck = <u32>load<u8>(p + i + k);
      if (ck < 0x80 || ck > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}
