// A FlatBuffers ByteBuffer whose every read is bounds-checked.
//
// The generated TypeScript code has no verifier: on a corrupt file its reads
// past the end return undefined (so garbage), and a huge vector length would
// make a loop run for a long time. Routing every read through a check turns
// both into a HnetFormatError at the first byte outside the buffer, and bounds
// each loop by the buffer's size, since element i of a vector is read at a
// position that grows with i.

import * as flatbuffers from 'flatbuffers';
import { HnetFormatError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class CheckedByteBuffer extends flatbuffers.ByteBuffer {
  /** The field being read, for the error message; set by the decoder. */
  field = '';
  /**
   * Bytes decoded so far (strings, vectors). FlatBuffers lets many offsets
   * point at one table or string, so a small file can decode to gigabytes;
   * without such aliasing every byte is decoded once, so twice the file size
   * (plus slack for small files) bounds any honest file.
   */
  decoded = 0;
  readonly decodeBudget = 2 * this.capacity() + 4096;

  charge(bytes: number): void {
    this.decoded += bytes;
    if (this.decoded > this.decodeBudget) {
      throw new HnetFormatError(
        'invalid-field',
        this.field,
        `the ${this.capacity()}-byte file decodes to more than ${this.decodeBudget} bytes: many offsets point at the same data (aliased tables), which no hnet writer produces`,
      );
    }
  }

  private check(offset: number, size: number): void {
    if (!(offset >= 0 && offset + size <= this.capacity())) {
      throw new HnetFormatError(
        'truncated',
        this.field,
        `reading ${size} byte(s) at offset ${offset} runs past the end of the ${this.capacity()}-byte buffer (truncated or corrupt file)`,
      );
    }
  }

  override readInt8(offset: number): number {
    this.check(offset, 1);
    return super.readInt8(offset);
  }
  override readUint8(offset: number): number {
    this.check(offset, 1);
    return super.readUint8(offset);
  }
  override readInt16(offset: number): number {
    this.check(offset, 2);
    return super.readInt16(offset);
  }
  override readUint16(offset: number): number {
    this.check(offset, 2);
    return super.readUint16(offset);
  }
  override readInt32(offset: number): number {
    this.check(offset, 4);
    return super.readInt32(offset);
  }
  override readUint32(offset: number): number {
    this.check(offset, 4);
    return super.readUint32(offset);
  }
  override readInt64(offset: number): bigint {
    this.check(offset, 8);
    return super.readInt64(offset);
  }
  override readUint64(offset: number): bigint {
    this.check(offset, 8);
    return super.readUint64(offset);
  }
  override readFloat32(offset: number): number {
    this.check(offset, 4);
    return super.readFloat32(offset);
  }
  override readFloat64(offset: number): number {
    this.check(offset, 8);
    return super.readFloat64(offset);
  }

  /**
   * Where field `vtableOffset` of the table at `tablePos` is, or 0 when absent,
   * after checking the vtable and the table's declared size as the runtime
   * does (the generated code trusts both).
   */
  override __offset(tablePos: number, vtableOffset: number): number {
    const vtable = tablePos - this.readInt32(tablePos);
    const vtableSize = this.readUint16(vtable);
    const tableSize = this.readUint16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw new HnetFormatError('invalid-field', this.field, `vtable size ${vtableSize} is not valid`);
    this.check(vtable, vtableSize);
    this.check(tablePos, tableSize);
    if (vtableOffset + 2 > vtableSize) return 0; // written by an older writer: absent
    const offset = this.readUint16(vtable + vtableOffset);
    if (offset === 0) return 0;
    if (offset < 4 || offset >= tableSize) {
      throw new HnetFormatError('invalid-field', this.field, `field offset ${offset} outside its table (${tableSize} bytes)`);
    }
    return offset;
  }

  /** A vector's length, unsigned like the runtime's (the generated code reads it as int32: 0xffffffff became -1, an empty vector). */
  override __vector_len(offset: number): number {
    const start = offset + this.readInt32(offset);
    const length = this.readUint32(start);
    this.check(start + 4, length); // every element takes at least one byte
    return length;
  }

  override __string(offset: number, encoding?: flatbuffers.Encoding): string | Uint8Array {
    const start = offset + this.readInt32(offset);
    const length = this.readUint32(start); // unsigned: 0xffffffff is 4 GiB, not -1 (an empty string)
    this.check(start + 4, length + 1); // + the terminating zero
    this.charge(length);
    const bytes = super.__string(offset, flatbuffers.Encoding.UTF8_BYTES) as Uint8Array;
    if (encoding === flatbuffers.Encoding.UTF8_BYTES) return bytes;
    // Strings are UTF-8; a corrupt one is refused, as by the runtime, not read with replacement characters.
    try {
      return utf8.decode(bytes);
    } catch {
      throw new HnetFormatError('invalid-field', this.field, 'the string is not valid UTF-8');
    }
  }
}
