/**
 * The CBOR decoder (RFC 8949) behind `decodeCbor`, in plain TypeScript with
 * no dependency. It reads what `cbor-encode.ts` writes and any other
 * well-formed CBOR the same way cbor-x did:
 *
 * - integers up to 32 bits as numbers, 64-bit ones as `bigint`; floats of
 *   16, 32 and 64 bits as numbers;
 * - byte strings as views into the input (no copy, as cbor-x did), text
 *   strings as strings;
 * - maps as plain objects (keys that are numbers, booleans, bigints or null
 *   become strings; `__proto__` becomes `__proto_`);
 * - tags 0 and 1 as `Date`, 2 and 3 as `bigint`, 258 as `Set`, 259 as `Map`,
 *   any other as a `CborTag`.
 *
 * Malformed input (truncated, trailing bytes, reserved codes, indefinite
 * strings, lengths beyond the input) throws an `Error`.
 *
 * @module
 */
import { CborTag } from "./cbor-encode.ts";

const EMPTY: Uint8Array = new Uint8Array(0);
let src: Uint8Array = EMPTY;
let view: DataView = new DataView(src.buffer);
let pos = 0;

const BREAK = Symbol("break");
const textDecoder = new TextDecoder();

function truncated(): Error {
  return new Error("unexpected end of CBOR data");
}

/** The argument of a head with additional information `info`. */
function argument(info: number): number | bigint {
  if (info < 0x18) return info;
  switch (info) {
    case 0x18:
      if (pos + 1 > src.length) throw truncated();
      return src[pos++];
    case 0x19:
      if (pos + 2 > src.length) throw truncated();
      pos += 2;
      return view.getUint16(pos - 2);
    case 0x1a:
      if (pos + 4 > src.length) throw truncated();
      pos += 4;
      return view.getUint32(pos - 4);
    case 0x1b:
      if (pos + 8 > src.length) throw truncated();
      pos += 8;
      return view.getBigUint64(pos - 8);
    default:
      throw new Error(`reserved additional information ${info}`);
  }
}

/** A length argument, which must fit the input that is left (each item takes at least `unit` bytes). */
function length(info: number, unit: number): number {
  const n = argument(info);
  if (typeof n === "bigint" || n * unit > src.length - pos) throw truncated();
  return n;
}

function readText(n: number): string {
  const end = pos + n;
  if (n < 64) {
    // Short strings (map keys, mostly): ASCII by hand, TextDecoder otherwise.
    let ascii = "";
    for (let i = pos; i < end; i++) {
      const c = src[i];
      if (c >= 0x80) {
        ascii = textDecoder.decode(src.subarray(pos, end));
        break;
      }
      ascii += String.fromCharCode(c);
    }
    pos = end;
    return ascii;
  }
  const text = textDecoder.decode(src.subarray(pos, end));
  pos = end;
  return text;
}

function float16(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

function safeKey(key: unknown): string {
  if (typeof key === "string") return key === "__proto__" ? "__proto_" : key;
  if (typeof key === "number" || typeof key === "boolean" || typeof key === "bigint") return String(key);
  if (key === null || key === undefined) return String(key);
  throw new Error(`a map key of type ${typeof key} cannot be an object property`);
}

function readObject(info: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (info === 0x1f) {
    for (let key = read(); key !== BREAK; key = read()) object[safeKey(key)] = item();
    return object;
  }
  const n = length(info, 2);
  for (let i = 0; i < n; i++) {
    const key = safeKey(item());
    object[key] = item();
  }
  return object;
}

function readArray(info: number): unknown[] {
  if (info === 0x1f) {
    const array: unknown[] = [];
    for (let value = read(); value !== BREAK; value = read()) array.push(value);
    return array;
  }
  const n = length(info, 1);
  const array = new Array(n);
  for (let i = 0; i < n; i++) array[i] = item();
  return array;
}

function readMap(): Map<unknown, unknown> {
  if (pos >= src.length) throw truncated();
  const initial = src[pos++];
  if (initial >> 5 !== 5) throw new Error("tag 259 must enclose a map");
  const map = new Map<unknown, unknown>();
  const info = initial & 0x1f;
  if (info === 0x1f) {
    for (let key = read(); key !== BREAK; key = read()) map.set(key, item());
    return map;
  }
  const n = length(info, 2);
  for (let i = 0; i < n; i++) map.set(item(), item());
  return map;
}

function bignum(bytes: unknown): bigint {
  if (!(bytes instanceof Uint8Array)) throw new Error("a bignum must be a byte string");
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function readTag(tag: number | bigint): unknown {
  switch (tag) {
    case 0:
      return new Date(item() as string);
    case 1:
      return new Date(Math.round((item() as number) * 1000));
    case 2:
      return bignum(item());
    case 3:
      return -1n - bignum(item());
    case 258:
      return new Set(item() as unknown[]);
    case 259:
      return readMap();
    default:
      return new CborTag(Number(tag), item());
  }
}

/** One item, or `BREAK` for a break code (only valid inside an indefinite container). */
function read(): unknown {
  if (pos >= src.length) throw truncated();
  const initial = src[pos++];
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return argument(info);
    case 1: {
      const n = argument(info);
      return typeof n === "bigint" ? -1n - n : -1 - n;
    }
    case 2: {
      if (info === 0x1f) throw new Error("indefinite-length byte strings are not supported");
      const n = length(info, 1);
      pos += n;
      return src.subarray(pos - n, pos);
    }
    case 3:
      if (info === 0x1f) throw new Error("indefinite-length text strings are not supported");
      return readText(length(info, 1));
    case 4:
      return readArray(info);
    case 5:
      return readObject(info);
    case 6:
      if (info === 0x1f) throw new Error("a tag needs a tag number");
      return readTag(argument(info));
    default:
      switch (info) {
        case 0x14:
          return false;
        case 0x15:
          return true;
        case 0x16:
          return null;
        case 0x17:
          return undefined;
        case 0x19:
          if (pos + 2 > src.length) throw truncated();
          pos += 2;
          return float16(view.getUint16(pos - 2));
        case 0x1a:
          if (pos + 4 > src.length) throw truncated();
          pos += 4;
          return view.getFloat32(pos - 4);
        case 0x1b:
          if (pos + 8 > src.length) throw truncated();
          pos += 8;
          return view.getFloat64(pos - 8);
        case 0x1f:
          return BREAK;
        default:
          throw new Error(`unsupported simple value ${info}`);
      }
  }
}

/** One item; a break code here is an error. */
function item(): unknown {
  const value = read();
  if (value === BREAK) throw new Error("unexpected break code");
  return value;
}

/**
 * Decode exactly one CBOR item from `bytes`; throws an `Error` on malformed
 * input or trailing bytes.
 *
 * @example
 * ```ts
 * import { decode } from "./cbor-decode.ts";
 * decode(Uint8Array.of(0xa1, 0x61, 0x61, 0x01)); // { a: 1 }
 * ```
 */
export function decode(bytes: Uint8Array): unknown {
  src = bytes;
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  try {
    const value = item();
    if (pos !== src.length) throw new Error(`${src.length - pos} bytes after the CBOR item`);
    return value;
  } finally {
    src = EMPTY;
  }
}
