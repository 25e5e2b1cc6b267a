/**
 * The CBOR encoder (RFC 8949) behind `encodeCbor`, in plain TypeScript with
 * no dependency. Its output is byte for byte what Macula wrote before with
 * cbor-x (records, packing and typed-array tags off):
 *
 * - integers in [-2^32, 2^32) as CBOR integers in the shortest form; every
 *   other number as a float64; a `bigint` as a 64-bit integer, or a bignum
 *   (tag 2/3) beyond;
 * - strings as UTF-8 text, byte arrays (`Uint8Array`, `ArrayBuffer`) as
 *   byte strings;
 * - arrays as arrays; objects as maps of their own enumerable string keys,
 *   in insertion order (`undefined` values included);
 * - `Map` as tag 259 around a map, `Set` as tag 258 around an array, `Date`
 *   as tag 1 (epoch seconds), `CborTag` as its tag around its value; any
 *   other iterable as an indefinite-length array.
 *
 * @module
 */

/** A tagged CBOR value whose tag has no JavaScript type of its own. */
export class CborTag {
  /**
   * @param tag the tag number
   * @param value the tagged content
   */
  constructor(readonly tag: number, readonly value: unknown) {}
}

const SLAB_SIZE = 64 * 1024;

let slab = new Uint8Array(SLAB_SIZE);
let view = new DataView(slab.buffer);
let start = 0;
let pos = 0;

/** Make room for `n` more bytes, moving the item being encoded to a new slab if needed. */
function reserve(n: number): void {
  if (pos + n <= slab.length) return;
  const used = pos - start;
  const next = new Uint8Array(Math.max(SLAB_SIZE, (used + n) * 2));
  next.set(slab.subarray(start, pos));
  slab = next;
  view = new DataView(slab.buffer);
  start = 0;
  pos = used;
}

/** A head: major type `major` (0..7, shifted) and argument `n` (< 2^32). */
function head(major: number, n: number): void {
  reserve(5);
  if (n < 0x18) {
    slab[pos++] = major | n;
  } else if (n < 0x100) {
    slab[pos++] = major | 0x18;
    slab[pos++] = n;
  } else if (n < 0x10000) {
    slab[pos++] = major | 0x19;
    slab[pos++] = n >> 8;
    slab[pos++] = n & 0xff;
  } else {
    slab[pos++] = major | 0x1a;
    view.setUint32(pos, n);
    pos += 4;
  }
}

const textEncoder = new TextEncoder();

function writeString(value: string): void {
  const chars = value.length;
  const headerSize = chars < 0x20 ? 1 : chars < 0x100 ? 2 : chars < 0x10000 ? 3 : 5;
  reserve(headerSize + chars * 3 + 4);
  const at = pos + headerSize;
  let length: number;
  if (chars < 0x40) {
    // Short strings by hand (as cbor-x did: a lone surrogate becomes its 3-byte form).
    let p = at;
    for (let i = 0; i < chars; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        slab[p++] = c;
      } else if (c < 0x800) {
        slab[p++] = (c >> 6) | 0xc0;
        slab[p++] = (c & 0x3f) | 0x80;
      } else if ((c & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (value.charCodeAt(++i) & 0x3ff);
        slab[p++] = (c >> 18) | 0xf0;
        slab[p++] = ((c >> 12) & 0x3f) | 0x80;
        slab[p++] = ((c >> 6) & 0x3f) | 0x80;
        slab[p++] = (c & 0x3f) | 0x80;
      } else {
        slab[p++] = (c >> 12) | 0xe0;
        slab[p++] = ((c >> 6) & 0x3f) | 0x80;
        slab[p++] = (c & 0x3f) | 0x80;
      }
    }
    length = p - at;
  } else {
    length = textEncoder.encodeInto(value, slab.subarray(at)).written;
  }
  const needed = length < 0x18 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  if (needed !== headerSize) slab.copyWithin(pos + needed, at, at + length);
  head(0x60, length);
  pos += length;
}

function writeBytes(bytes: Uint8Array): void {
  head(0x40, bytes.length);
  reserve(bytes.length);
  slab.set(bytes, pos);
  pos += bytes.length;
}

function writeNumber(value: number): void {
  if (value >>> 0 === value) {
    head(0x00, value);
  } else if (value >> 0 === value || (value < 0 && value >= -0x100000000 && Math.floor(value) === value)) {
    head(0x20, -1 - value);
  } else {
    reserve(9);
    slab[pos++] = 0xfb;
    view.setFloat64(pos, value);
    pos += 8;
  }
}

const TWO_64 = 1n << 64n;

function writeBigInt(value: bigint): void {
  if (value >= 0n && value < TWO_64) {
    reserve(9);
    slab[pos++] = 0x1b;
    view.setBigUint64(pos, value);
    pos += 8;
  } else if (value < 0n && value > -TWO_64) {
    reserve(9);
    slab[pos++] = 0x3b;
    view.setBigUint64(pos, -value - 1n);
    pos += 8;
  } else {
    let magnitude = value >= 0n ? value : -1n - value;
    head(0xc0, value >= 0n ? 2 : 3);
    const bytes: number[] = [];
    while (magnitude > 0n) {
      bytes.push(Number(magnitude & 0xffn));
      magnitude >>= 8n;
    }
    writeBytes(Uint8Array.from(bytes.reverse()));
  }
}

function writeObject(object: Record<string, unknown>): void {
  const keys = Object.keys(object);
  head(0xa0, keys.length);
  for (const key of keys) {
    writeString(key);
    write(object[key]);
  }
}

function writeInstance(value: object): void {
  if (value instanceof Uint8Array) return writeBytes(value);
  if (value instanceof ArrayBuffer) return writeBytes(new Uint8Array(value));
  if (value instanceof Map) {
    head(0xc0, 259);
    head(0xa0, value.size);
    for (const [key, item] of value) {
      write(key);
      write(item);
    }
    return;
  }
  if (value instanceof Set) {
    head(0xc0, 258);
    return writeArray(Array.from(value));
  }
  if (value instanceof Date) {
    head(0xc0, 1);
    const seconds = value.getTime() / 1000;
    reserve(9);
    if (value.getMilliseconds() === 0 && seconds >= 0 && seconds < 0x100000000) {
      slab[pos++] = 0x1a;
      view.setUint32(pos, seconds);
      pos += 4;
      return;
    }
    slab[pos++] = 0xfb;
    view.setFloat64(pos, seconds);
    pos += 8;
    return;
  }
  if (value instanceof CborTag) {
    head(0xc0, value.tag);
    return write(value.value);
  }
  if (ArrayBuffer.isView(value) || value instanceof Error || value instanceof RegExp) {
    throw new TypeError(`cannot encode a ${value.constructor.name} as CBOR`);
  }
  if (Symbol.iterator in value) {
    reserve(1);
    slab[pos++] = 0x9f;
    for (const item of value as Iterable<unknown>) write(item);
    reserve(1);
    slab[pos++] = 0xff;
    return;
  }
  writeObject(value as Record<string, unknown>);
}

function writeArray(array: readonly unknown[]): void {
  head(0x80, array.length);
  for (let i = 0; i < array.length; i++) write(array[i]);
}

function write(value: unknown): void {
  switch (typeof value) {
    case "string":
      return writeString(value);
    case "number":
      return writeNumber(value);
    case "boolean":
      reserve(1);
      slab[pos++] = value ? 0xf5 : 0xf4;
      return;
    case "undefined":
      reserve(1);
      slab[pos++] = 0xf7;
      return;
    case "bigint":
      return writeBigInt(value);
    case "object":
      if (value === null) {
        reserve(1);
        slab[pos++] = 0xf6;
        return;
      }
      if (Array.isArray(value)) return writeArray(value);
      if (value.constructor === Object || value.constructor === undefined) {
        return writeObject(value as Record<string, unknown>);
      }
      return writeInstance(value);
    default:
      throw new TypeError(`cannot encode a ${typeof value} as CBOR`);
  }
}

/**
 * Encode `value` as one CBOR item. The result is a view into a shared slab
 * that is never written again (a new slab is taken when one is full).
 *
 * @example
 * ```ts
 * import { encode } from "./cbor-encode.ts";
 * encode({ a: 1 }); // Uint8Array [0xa1, 0x61, 0x61, 0x01]
 * ```
 */
export function encode(value: unknown): Uint8Array {
  start = pos;
  try {
    write(value);
  } catch (error) {
    pos = start;
    throw error;
  }
  const out = slab.subarray(start, pos);
  if (slab.length - pos < 256) {
    slab = new Uint8Array(SLAB_SIZE);
    view = new DataView(slab.buffer);
    pos = 0;
  }
  return out;
}
