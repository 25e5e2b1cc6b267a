/**
 * Content ids (MCIDs): a self-describing name of a Merkle root.
 *
 * Binary form: `version (0x01) ‖ codec (multicodec: 0x1e blake3, 0x12
 * sha2-256) ‖ size (unsigned LEB128, minimal) ‖ root (32 bytes)`. Text form:
 * multibase base32 (RFC 4648 lower case, no padding, prefix `b`), e.g.
 * `baepqe…`. Parsing is strict: one text form only (no other multibase, no
 * upper case), version 1, a known codec, a minimal size varint up to
 * 2^53 − 1, exactly 32 hash bytes, nothing after. The size is part of the
 * id (and bound by the root), so a fetcher knows the tree's shape and the
 * quota it needs before the first byte.
 *
 * @module
 */
import { base32 } from "npm:multiformats@14.0.5/bases/base32";
import { type Codec, CODEC_CODES, HASH_LENGTH } from "./hash.ts";
import { InvalidMcidError } from "./errors.ts";

/** The MCID version this code writes and reads. */
export const MCID_VERSION = 1;

/** Longest binary MCID: version, codec, an 8-byte varint, the hash. */
export const MAX_MCID_BYTES = 2 + 8 + HASH_LENGTH;

const MAX_SIZE = Number.MAX_SAFE_INTEGER;
const CODEC_BY_CODE = new Map<number, Codec>(Object.entries(CODEC_CODES).map(([c, n]) => [n, c as Codec]));

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A parsed content id.
 *
 * @example
 * ```ts
 * import { Mcid } from "./mcid.ts";
 * const id = new Mcid("blake3", 5, new Uint8Array(32));
 * const same = Mcid.parse(id.toString());
 * same.equals(id); // true
 * same.size; // 5
 * ```
 */
export class Mcid {
  /** The binary form. */
  readonly bytes: Uint8Array;
  #text?: string;

  /** An id for content of `size` bytes whose tree root under `codec` is `root`. */
  constructor(readonly codec: Codec, readonly size: number, readonly root: Uint8Array) {
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidMcidError(`size ${size} is not a byte count`);
    if (root.length !== HASH_LENGTH) {
      throw new InvalidMcidError(`root must be ${HASH_LENGTH} bytes, got ${root.length}`);
    }
    const len: number[] = [];
    let n = size;
    do {
      const low = n % 128;
      n = Math.floor(n / 128);
      len.push(n > 0 ? low | 0x80 : low);
    } while (n > 0);
    this.bytes = new Uint8Array([MCID_VERSION, CODEC_CODES[codec], ...len, ...root]);
  }

  /** Parse the binary form strictly; throws `InvalidMcidError`. */
  static fromBytes(bytes: Uint8Array): Mcid {
    if (!(bytes instanceof Uint8Array)) throw new InvalidMcidError("not bytes");
    if (bytes.length < 3 + HASH_LENGTH) throw new InvalidMcidError(`too short (${bytes.length} bytes)`);
    if (bytes.length > MAX_MCID_BYTES) throw new InvalidMcidError(`too long (${bytes.length} bytes)`);
    if (bytes[0] !== MCID_VERSION) throw new InvalidMcidError(`unknown version ${bytes[0]}`);
    const codec = CODEC_BY_CODE.get(bytes[1]);
    if (!codec) throw new InvalidMcidError(`unknown hash codec 0x${bytes[1].toString(16)}`);
    let size = 0, scale = 1, i = 2;
    for (;; i++) {
      if (i >= bytes.length - HASH_LENGTH) throw new InvalidMcidError("size runs into the hash");
      const b = bytes[i];
      size += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 2) throw new InvalidMcidError("size is not minimally encoded");
        break;
      }
      if (i - 2 >= 7) throw new InvalidMcidError("size varint too long");
    }
    if (size > MAX_SIZE) throw new InvalidMcidError(`size ${size} too large`);
    if (bytes.length - (i + 1) !== HASH_LENGTH) {
      throw new InvalidMcidError(`hash must be ${HASH_LENGTH} bytes, got ${bytes.length - (i + 1)}`);
    }
    return new Mcid(codec, size, bytes.slice(i + 1));
  }

  /** Parse the text form strictly; throws `InvalidMcidError`. */
  static parse(text: string): Mcid {
    if (typeof text !== "string") throw new InvalidMcidError("not a string");
    if (text.length === 0) throw new InvalidMcidError("empty content id");
    if (text.length > 80) throw new InvalidMcidError(`too long (${text.length} characters)`);
    if (text[0] !== "b") {
      throw new InvalidMcidError(`must start with "b" (multibase base32), got "${text[0]}"`);
    }
    if (!/^b[a-z2-7]+$/.test(text)) throw new InvalidMcidError("not lower-case base32 (a-z, 2-7)");
    let bytes: Uint8Array;
    try {
      bytes = base32.decode(text);
    } catch (error) {
      throw new InvalidMcidError(`bad base32: ${(error as Error).message}`);
    }
    const id = Mcid.fromBytes(bytes);
    if (id.toString() !== text) throw new InvalidMcidError("not the canonical text form");
    return id;
  }

  /** The text form. */
  toString(): string {
    return this.#text ??= base32.encode(this.bytes);
  }

  /** JSON shows the text form. */
  toJSON(): string {
    return this.toString();
  }

  /** Hex of the root (file names in the store). */
  get rootHex(): string {
    return hex(this.root);
  }

  /** Same codec, size and root. */
  equals(other: Mcid): boolean {
    if (other.bytes.length !== this.bytes.length) return false;
    for (let i = 0; i < this.bytes.length; i++) if (other.bytes[i] !== this.bytes[i]) return false;
    return true;
  }
}
