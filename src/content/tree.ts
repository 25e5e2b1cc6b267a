/**
 * The content tree: content is cut into 16 KiB chunk groups (the last one
 * may be shorter; empty content is one empty group), each group is a leaf,
 * and leaves are paired into a left-balanced binary tree as in BAO (the
 * left subtree of `n` leaves holds the largest power of two below `n`).
 * The root binds the size (see `hash.ts`).
 *
 * A fetcher first gets the leaf hashes (32 bytes per 16 KiB, 0.2 % of the
 * content), checks that they make the root named by the MCID, and from then
 * on verifies every group on arrival against its leaf, before it is written
 * or handed out.
 *
 * @module
 */
import { ContentVerificationError } from "./errors.ts";
import { type Codec, HASH_LENGTH, loadHasher, type TreeHasher } from "./hash.ts";
import { Mcid } from "./mcid.ts";

/** Size of a chunk group, bytes. */
export const GROUP_SIZE = 16 * 1024;

/** Number of groups (leaves) of content of `size` bytes: at least one. */
export function groupCount(size: number): number {
  return Math.max(1, Math.ceil(size / GROUP_SIZE));
}

/** Byte length of group `index` of content of `size` bytes. */
export function groupLength(index: number, size: number): number {
  return Math.max(0, Math.min(GROUP_SIZE, size - index * GROUP_SIZE));
}

/** The top hash of leaves `[lo, hi)` (before the root step). */
function subtree(h: TreeHasher, leaves: Uint8Array, lo: number, hi: number): Uint8Array {
  if (hi - lo === 1) return leaves.subarray(lo * HASH_LENGTH, (lo + 1) * HASH_LENGTH);
  let split = 1;
  while (split * 2 < hi - lo) split *= 2;
  return h.parent(subtree(h, leaves, lo, lo + split), subtree(h, leaves, lo + split, hi));
}

/**
 * The root hash of content of `size` bytes whose leaf hashes are `leaves`
 * (`groupCount(size) × 32` bytes).
 */
export function rootOf(h: TreeHasher, leaves: Uint8Array, size: number): Uint8Array {
  const n = groupCount(size);
  if (leaves.length !== n * HASH_LENGTH) {
    throw new ContentVerificationError(`expected ${n} leaf hashes, got ${leaves.length / HASH_LENGTH}`);
  }
  return h.root(subtree(h, leaves, 0, n), size);
}

/** Whether `leaves` are the leaf hashes of `mcid`. */
export function leavesMatch(h: TreeHasher, mcid: Mcid, leaves: Uint8Array): boolean {
  if (h.codec !== mcid.codec || leaves.length !== groupCount(mcid.size) * HASH_LENGTH) return false;
  const root = rootOf(h, leaves, mcid.size);
  for (let i = 0; i < HASH_LENGTH; i++) if (root[i] !== mcid.root[i]) return false;
  return true;
}

/**
 * Whether `data` is group `index` of the content whose (verified) leaf
 * hashes are `leaves`: right length and right hash.
 */
export function groupMatches(
  h: TreeHasher,
  leaves: Uint8Array,
  size: number,
  index: number,
  data: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= groupCount(size)) return false;
  if (data.length !== groupLength(index, size)) return false;
  const got = h.leaf(data);
  const off = index * HASH_LENGTH;
  for (let i = 0; i < HASH_LENGTH; i++) if (got[i] !== leaves[off + i]) return false;
  return true;
}

/**
 * Hashes content as it streams by: `push` any slices, then `finish` gives
 * the MCID and the leaf hashes. Memory: one partial group plus 32 bytes per
 * group.
 *
 * @example
 * ```ts
 * import { TreeBuilder } from "./tree.ts";
 * const b = await TreeBuilder.create("blake3");
 * b.push(new TextEncoder().encode("hello "));
 * b.push(new TextEncoder().encode("world"));
 * const { mcid, leaves } = b.finish();
 * mcid.size; // 11
 * leaves.length; // 32
 * ```
 */
export class TreeBuilder {
  #group = new Uint8Array(GROUP_SIZE);
  #fill = 0;
  #size = 0;
  #leaves = new Uint8Array(64 * HASH_LENGTH);
  #count = 0;

  private constructor(private readonly h: TreeHasher) {}

  /** A builder for `codec` (loads the hasher). */
  static async create(codec: Codec = "blake3"): Promise<TreeBuilder> {
    return new TreeBuilder(await loadHasher(codec));
  }

  /** Bytes pushed so far. */
  get size(): number {
    return this.#size;
  }

  #leaf(group: Uint8Array): void {
    if ((this.#count + 1) * HASH_LENGTH > this.#leaves.length) {
      const grown = new Uint8Array(this.#leaves.length * 2);
      grown.set(this.#leaves);
      this.#leaves = grown;
    }
    this.#leaves.set(this.h.leaf(group), this.#count * HASH_LENGTH);
    this.#count++;
  }

  /** Hash more content. */
  push(bytes: Uint8Array): void {
    this.#size += bytes.length;
    let off = 0;
    if (this.#fill > 0) {
      const k = Math.min(bytes.length, GROUP_SIZE - this.#fill);
      this.#group.set(bytes.subarray(0, k), this.#fill);
      this.#fill += k;
      off = k;
      if (this.#fill < GROUP_SIZE) return;
      this.#leaf(this.#group);
      this.#fill = 0;
    }
    // Whole groups straight from the input (no copy).
    while (bytes.length - off >= GROUP_SIZE) {
      this.#leaf(bytes.subarray(off, off + GROUP_SIZE));
      off += GROUP_SIZE;
    }
    if (off < bytes.length) {
      this.#group.set(bytes.subarray(off), 0);
      this.#fill = bytes.length - off;
    }
  }

  /** The MCID and leaf hashes of everything pushed. The builder is spent. */
  finish(): { mcid: Mcid; leaves: Uint8Array } {
    if (this.#fill > 0 || this.#count === 0) this.#leaf(this.#group.subarray(0, this.#fill));
    const leaves = this.#leaves.slice(0, this.#count * HASH_LENGTH);
    return { mcid: new Mcid(this.h.codec, this.#size, rootOf(this.h, leaves, this.#size)), leaves };
  }
}

/** MCID and leaves of `bytes` in one call. */
export async function hashBytes(
  bytes: Uint8Array,
  codec: Codec = "blake3",
): Promise<{ mcid: Mcid; leaves: Uint8Array }> {
  const b = await TreeBuilder.create(codec);
  b.push(bytes);
  return b.finish();
}
