/**
 * The hash functions of content ids, behind one small interface. Both run
 * in WebAssembly (`hash-wasm`), so every runtime and every single binary —
 * armv7 included — hashes at the same relative speed, with no native code
 * and no crypto extensions needed. See the README's hashing table for the
 * candidates measured and why these won.
 *
 * The Merkle tree (see `tree.ts`) hashes three kinds of node, each with its
 * own one-byte domain prefix so that no leaf can pass for a parent or a
 * root: `leaf = H(0x00 ‖ group)`, `parent = H(0x01 ‖ left ‖ right)`,
 * `root = H(0x02 ‖ u64le(size) ‖ top)`.
 *
 * @module
 */
import { createBLAKE3, createSHA256, type IHasher } from "npm:hash-wasm@4.13.0";

/** The hash codecs an MCID can name. */
export type Codec = "blake3" | "sha256";

/** The codecs, default first. */
export const CODECS: readonly Codec[] = ["blake3", "sha256"];

/** The multicodec code of each codec (`blake3` 0x1e, `sha2-256` 0x12), as written in an MCID. */
export const CODEC_CODES: Readonly<Record<Codec, number>> = { blake3: 0x1e, sha256: 0x12 };

/** Length of every hash, bytes. */
export const HASH_LENGTH = 32;

const LEAF = new Uint8Array([0]);
const PARENT = new Uint8Array([1]);
const ROOT = new Uint8Array([2]);

/** The three node hashes of the content tree for one codec. Synchronous once loaded. */
export interface TreeHasher {
  /** The codec. */
  readonly codec: Codec;
  /** Hash of one chunk group (≤ 16 KiB). */
  leaf(group: Uint8Array): Uint8Array;
  /** Hash of an inner node. */
  parent(left: Uint8Array, right: Uint8Array): Uint8Array;
  /** The root hash, binding the content size. */
  root(top: Uint8Array, size: number): Uint8Array;
}

class WasmTreeHasher implements TreeHasher {
  constructor(readonly codec: Codec, private readonly h: IHasher) {}

  leaf(group: Uint8Array): Uint8Array {
    this.h.init();
    this.h.update(LEAF);
    this.h.update(group);
    return this.h.digest("binary");
  }

  parent(left: Uint8Array, right: Uint8Array): Uint8Array {
    this.h.init();
    this.h.update(PARENT);
    this.h.update(left);
    this.h.update(right);
    return this.h.digest("binary");
  }

  root(top: Uint8Array, size: number): Uint8Array {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(size), true);
    this.h.init();
    this.h.update(ROOT);
    this.h.update(len);
    this.h.update(top);
    return this.h.digest("binary");
  }
}

const loaded = new Map<Codec, Promise<TreeHasher>>();

/**
 * The tree hasher of `codec` (instantiated once per process; later calls
 * share it — it is synchronous, so sharing is safe).
 *
 * @example
 * ```ts
 * import { loadHasher } from "./hash.ts";
 * const h = await loadHasher("blake3");
 * h.leaf(new Uint8Array(16384)).length; // 32
 * ```
 */
export function loadHasher(codec: Codec): Promise<TreeHasher> {
  let p = loaded.get(codec);
  if (!p) {
    p = (codec === "blake3" ? createBLAKE3() : createSHA256()).then((h) => new WasmTreeHasher(codec, h));
    loaded.set(codec, p);
  }
  return p;
}
