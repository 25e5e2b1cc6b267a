/**
 * `MemoryContentStore`: a `ContentStore` that keeps everything in memory,
 * for nodes without a data dir and for tests. Same promises as the disk
 * store (quota, pins, least-recently-used eviction of unpinned entries, one
 * writer per entry), nothing survives the process.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";
import { ContentNotFoundError, ContentVerificationError, QuotaExceededError } from "./errors.ts";
import { loadHasher } from "./hash.ts";
import type { Mcid } from "./mcid.ts";
import { RangeSet } from "./ranges.ts";
import type { ContentReader, ContentStore, ContentWriter, PutOptions, StoredContent } from "./store.ts";
import { GROUP_SIZE, groupCount, groupLength, leavesMatch, TreeBuilder } from "./tree.ts";

/** Misuse of a store entry (a second writer, completing an incomplete entry, a write out of bounds). */
export class ContentStoreError extends MaculaError {
  /** `message` says what was refused. */
  constructor(message: string) {
    super("E_CONTENT_STORE", message);
  }
}

interface Entry {
  mcid: Mcid;
  data: Uint8Array;
  leaves?: Uint8Array;
  have: RangeSet;
  bytes: number;
  complete: boolean;
  pinned: boolean;
  lastUsed: number;
  writing: boolean;
}

function snapshot(e: Entry): StoredContent {
  return { mcid: e.mcid, complete: e.complete, pinned: e.pinned, bytes: e.bytes, lastUsed: e.lastUsed };
}

/**
 * Content kept in memory, within `quota` bytes (default unlimited).
 *
 * @example
 * ```ts
 * import { MemoryContentStore } from "./memory-store.ts";
 * const store = new MemoryContentStore({ quota: 1 << 20 });
 * await store.open();
 * const entry = await store.put(ReadableStream.from([new TextEncoder().encode("hello")]));
 * entry.complete; // true
 * const reader = await store.reader(entry.mcid);
 * await reader!.read(0, 5); // the bytes of "hello"
 * ```
 */
export class MemoryContentStore implements ContentStore {
  /** Quota, bytes. */
  readonly quota: number;
  #entries = new Map<string, Entry>();
  #clock = 0;

  /** A store holding at most `options.quota` bytes (default: no limit). */
  constructor(options: { quota?: number } = {}) {
    this.quota = options.quota ?? Number.MAX_SAFE_INTEGER;
  }

  /** Monotonic "now": never equal for two uses, so LRU order is exact. */
  #now(): number {
    this.#clock = Math.max(this.#clock + 1e-3, Date.now());
    return this.#clock;
  }

  /** Bytes reserved by entries (a partial entry counts its full size). */
  used(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.mcid.size;
    return n;
  }

  /** Nothing to load. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** Make room for `needed` more bytes, evicting unpinned entries not being written, least recently used first. */
  #makeRoom(needed: number, keep?: string): void {
    if (needed > this.quota) throw new QuotaExceededError(needed, this.quota);
    let used = this.used();
    if (used + needed <= this.quota) return;
    const victims = [...this.#entries.entries()]
      .filter(([key, e]) => !e.pinned && !e.writing && key !== keep)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    const evictable = victims.reduce((n, [, e]) => n + e.mcid.size, 0);
    if (used - evictable + needed > this.quota) throw new QuotaExceededError(needed, this.quota);
    for (const [key, e] of victims) {
      if (used + needed <= this.quota) break;
      this.#entries.delete(key);
      used -= e.mcid.size;
    }
  }

  async put(
    source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<StoredContent> {
    const builder = await TreeBuilder.create(options.codec ?? "blake3");
    const chunks: Uint8Array[] = [];
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      builder.push(chunk);
      chunks.push(chunk.slice());
      if (builder.size > this.quota) throw new QuotaExceededError(builder.size, this.quota);
    }
    const { mcid, leaves } = builder.finish();
    const key = mcid.toString();
    const existing = this.#entries.get(key);
    if (existing?.complete) {
      existing.lastUsed = this.#now();
      if (options.pin) existing.pinned = true;
      return snapshot(existing);
    }
    if (existing?.writing) throw new ContentStoreError(`content ${key} is being written`);
    this.#makeRoom(existing ? 0 : mcid.size, key);
    const data = new Uint8Array(mcid.size);
    let off = 0;
    for (const c of chunks) {
      data.set(c, off);
      off += c.length;
    }
    const entry: Entry = {
      mcid,
      data,
      leaves,
      have: RangeSet.full(groupCount(mcid.size)),
      bytes: mcid.size,
      complete: true,
      pinned: (options.pin ?? false) || (existing?.pinned ?? false),
      lastUsed: this.#now(),
      writing: false,
    };
    this.#entries.set(key, entry);
    return snapshot(entry);
  }

  get(mcid: Mcid): StoredContent | undefined {
    const e = this.#entries.get(mcid.toString());
    return e && snapshot(e);
  }

  list(): StoredContent[] {
    return [...this.#entries.values()].map(snapshot);
  }

  writer(mcid: Mcid): Promise<ContentWriter> {
    const key = mcid.toString();
    let entry = this.#entries.get(key);
    if (entry?.writing) return Promise.reject(new ContentStoreError(`content ${key} already has a writer`));
    if (!entry) {
      try {
        this.#makeRoom(mcid.size);
      } catch (error) {
        return Promise.reject(error);
      }
      entry = {
        mcid,
        data: new Uint8Array(mcid.size),
        have: new RangeSet(),
        bytes: 0,
        complete: false,
        pinned: false,
        lastUsed: this.#now(),
        writing: false,
      };
      this.#entries.set(key, entry);
    }
    entry.writing = true;
    return Promise.resolve(new MemoryWriter(entry, () => this.#now()));
  }

  reader(mcid: Mcid): Promise<ContentReader | undefined> {
    const e = this.#entries.get(mcid.toString());
    if (!e) return Promise.resolve(undefined);
    e.lastUsed = this.#now();
    return Promise.resolve(new MemoryReader(e));
  }

  pin(mcid: Mcid, pinned: boolean): Promise<boolean> {
    const e = this.#entries.get(mcid.toString());
    if (!e) return Promise.resolve(false);
    e.pinned = pinned;
    return Promise.resolve(true);
  }

  remove(mcid: Mcid): Promise<boolean> {
    return Promise.resolve(this.#entries.delete(mcid.toString()));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

class MemoryWriter implements ContentWriter {
  #closed = false;
  constructor(private readonly e: Entry, private readonly now: () => number) {}

  get mcid(): Mcid {
    return this.e.mcid;
  }

  #check(): void {
    if (this.#closed) throw new ContentStoreError(`writer of ${this.e.mcid} is closed`);
  }

  leaves(): Uint8Array | undefined {
    return this.e.leaves;
  }

  async setLeaves(leaves: Uint8Array): Promise<void> {
    this.#check();
    const h = await loadHasher(this.e.mcid.codec);
    if (!leavesMatch(h, this.e.mcid, leaves)) {
      throw new ContentVerificationError(`leaf hashes do not make the root of ${this.e.mcid}`);
    }
    this.e.leaves = leaves.slice();
  }

  have(): RangeSet {
    return this.e.have.clone();
  }

  writeGroup(index: number, data: Uint8Array): Promise<void> {
    this.#check();
    if (!this.e.leaves) return Promise.reject(new ContentStoreError(`no leaf hashes yet for ${this.e.mcid}`));
    const size = this.e.mcid.size;
    if (!Number.isInteger(index) || index < 0 || index >= groupCount(size)) {
      return Promise.reject(new ContentStoreError(`group ${index} out of range`));
    }
    if (data.length !== groupLength(index, size)) {
      return Promise.reject(new ContentStoreError(`group ${index} must be ${groupLength(index, size)} bytes`));
    }
    if (!this.e.have.has(index)) {
      this.e.data.set(data, index * GROUP_SIZE);
      this.e.have.add(index);
      this.e.bytes += data.length;
    }
    this.e.lastUsed = this.now();
    return Promise.resolve();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  complete(): Promise<StoredContent> {
    this.#check();
    const groups = groupCount(this.e.mcid.size);
    if (!this.e.have.covers(0, groups)) {
      return Promise.reject(
        new ContentStoreError(`content ${this.e.mcid} is incomplete (${this.e.have.count}/${groups} groups)`),
      );
    }
    this.e.complete = true;
    this.e.lastUsed = this.now();
    return Promise.resolve(snapshot(this.e));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.e.writing = false;
    }
    return Promise.resolve();
  }
}

class MemoryReader implements ContentReader {
  readonly leaves: Uint8Array | undefined;
  #have: RangeSet;
  constructor(private readonly e: Entry) {
    this.leaves = e.leaves;
    this.#have = e.have.clone();
  }

  get mcid(): Mcid {
    return this.e.mcid;
  }

  have(): RangeSet {
    return this.#have.clone();
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    const size = this.e.mcid.size;
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > size) {
      return Promise.reject(new RangeError(`read of ${length} bytes at ${offset} is outside ${size} bytes`));
    }
    if (length > 0) {
      const first = Math.floor(offset / GROUP_SIZE), end = Math.floor((offset + length - 1) / GROUP_SIZE) + 1;
      if (!this.#have.covers(first, end)) {
        return Promise.reject(new ContentNotFoundError(this.e.mcid.toString(), `groups ${first}–${end - 1} absent`));
      }
    }
    // A view, not a copy: present groups never change (callers must not modify it).
    return Promise.resolve(this.e.data.subarray(offset, offset + length));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
