/**
 * Where content lives: the contract between the content service and its
 * storage. `FsContentStore` (`fs-store.ts`) keeps content on disk under the
 * data dir; `MemoryContentStore` (`memory-store.ts`) serves nodes without
 * one. Both keep the same promises:
 *
 * - only verified groups are ever written (the caller verifies against the
 *   entry's leaves, which the store refuses unless they make the MCID's root);
 * - the set of present groups is persisted only after the data it covers is
 *   durable, so a crash never marks unverified or unwritten bytes present;
 * - a completed entry appears atomically (no half-written complete file);
 * - pinned entries are never evicted; unpinned ones go least recently used
 *   first when a new entry needs room within the quota.
 *
 * @module
 */
import type { Mcid } from "./mcid.ts";
import type { RangeSet } from "./ranges.ts";

/** One stored (or partly stored) piece of content. */
export interface StoredContent {
  /** Its id. */
  readonly mcid: Mcid;
  /** Whether every group is present. */
  readonly complete: boolean;
  /** Whether it is pinned (never evicted). */
  readonly pinned: boolean;
  /** Bytes present (verified). */
  readonly bytes: number;
  /** Last use (read, written, published), ms since the epoch. */
  readonly lastUsed: number;
}

/** Writes verified groups of one entry; one writer per entry at a time. */
export interface ContentWriter {
  /** The content id. */
  readonly mcid: Mcid;
  /** The verified leaf hashes, once known. */
  leaves(): Uint8Array | undefined;
  /** Record the leaf hashes (throws `ContentVerificationError` unless they make the root). Durable on return. */
  setLeaves(leaves: Uint8Array): Promise<void>;
  /** Groups present (durable or pending the next `flush`). */
  have(): RangeSet;
  /** Write group `index` (already verified by the caller). */
  writeGroup(index: number, data: Uint8Array): Promise<void>;
  /** Make written groups durable, then persist the have-set. */
  flush(): Promise<void>;
  /**
   * Once every group is present: flush and turn the entry complete
   * (atomically). Returns the stored entry.
   */
  complete(): Promise<StoredContent>;
  /** Flush and release the writer (the partial entry stays for a resume). */
  close(): Promise<void>;
}

/** Reads one entry (complete, or the present groups of a partial one). */
export interface ContentReader {
  /** The content id. */
  readonly mcid: Mcid;
  /** The verified leaf hashes (absent for a partial entry that has none yet). */
  readonly leaves: Uint8Array | undefined;
  /** Groups present when the reader was opened (complete: all). */
  have(): RangeSet;
  /** Read `length` bytes at byte `offset` (within present groups). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Release the reader. */
  close(): Promise<void>;
}

/** Options of `ContentStore.put`. */
export interface PutOptions {
  /** Pin the new entry. */
  pin?: boolean;
  /** Hash codec (default `blake3`). */
  codec?: import("./hash.ts").Codec;
}

/** A content store. */
export interface ContentStore {
  /** Quota, bytes (complete and partial entries together). */
  readonly quota: number;
  /** Bytes used by entries (complete and partial). */
  used(): number;
  /** Load the index (create directories); call once before use. */
  open(): Promise<void>;
  /**
   * Store content from a stream (publishing): hash it as it is written,
   * then make it a complete entry under its MCID. Throws
   * `QuotaExceededError` when it cannot fit even after evicting every
   * unpinned entry.
   */
  put(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<StoredContent>;
  /** The entry of `mcid`, if any. */
  get(mcid: Mcid): StoredContent | undefined;
  /** Every entry. */
  list(): StoredContent[];
  /**
   * A writer for `mcid` (new or resumed partial entry). Reserves
   * `mcid.size` bytes of quota (evicting unpinned entries if needed;
   * `QuotaExceededError` otherwise).
   */
  writer(mcid: Mcid): Promise<ContentWriter>;
  /** A reader for `mcid`, or `undefined` if there is no entry. Marks it used. */
  reader(mcid: Mcid): Promise<ContentReader | undefined>;
  /** Pin (true) or unpin; `false` if there is no entry. */
  pin(mcid: Mcid, pinned: boolean): Promise<boolean>;
  /** Remove an entry (pinned or not); `false` if there was none. */
  remove(mcid: Mcid): Promise<boolean>;
  /** Release files. */
  close(): Promise<void>;
}
