/**
 * `FsContentStore`: content on disk under the node's data dir (layout in
 * `fs-store-files.ts`), with a byte quota, pins and least-recently-used
 * eviction.
 *
 * Durability, in the order things reach the disk:
 *
 * - `put` streams into `put-<uuid>.tmp` while hashing, fsyncs it, writes the
 *   leaves and metadata atomically, then renames the temp file to
 *   `<mcid>.data` — the rename is the moment the entry becomes complete;
 * - a writer writes verified groups into the sparse `<mcid>.part` (runs of
 *   consecutive groups gathered into writes of up to 256 KiB); `flush`
 *   fsyncs it and only then writes the have-set file (atomically), so a
 *   crash never marks unwritten bytes present; `complete` flushes, renames
 *   `.part` to `.data`, then drops the have-set file;
 * - `lastUsed` is kept in memory and written in batches (at most once per
 *   `lastUsedPersistMs`, and at `close`), so reads cause no fsync storm.
 *
 * `open()` removes temporary files, orphaned metadata and stale have-sets
 * left by a crash.
 *
 * @module
 */
import type { FileHandle, FsApi } from "../platform/types.ts";
import { ContentVerificationError, QuotaExceededError } from "./errors.ts";
import {
  decodeHave,
  decodeMeta,
  encodeHave,
  encodeMeta,
  ENTRY_FILE_KINDS,
  type EntryFileKind,
  entryFileName,
  isTempFileName,
  newPutTempName,
  parseEntryFileName,
} from "./fs-store-files.ts";
import { type Codec, HASH_LENGTH, loadHasher, type TreeHasher } from "./hash.ts";
import { Mcid } from "./mcid.ts";
import { RangeSet } from "./ranges.ts";
import { ContentStoreError, describeError } from "./store-errors.ts";
import type { ContentReader, ContentStore, ContentWriter, PutOptions, StoredContent } from "./store.ts";
import { GROUP_SIZE, groupCount, groupLength, leavesMatch, TreeBuilder } from "./tree.ts";

/** Options of `FsContentStore`. */
export interface FsContentStoreOptions {
  /** Quota, bytes (default: no limit). */
  quota?: number;
  /** Write batched `lastUsed` updates at most this often, ms (default 60 000). */
  lastUsedPersistMs?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Writes of a `put` are gathered into buffers of this size. */
const PUT_BUFFER = 1024 * 1024;
/** A writer gathers runs of consecutive groups into one file write of up to this size. */
const COALESCE_BYTES = 16 * GROUP_SIZE;

/** An entry as the store tracks it. */
interface Entry {
  readonly mcid: Mcid;
  readonly name: string;
  complete: boolean;
  pinned: boolean;
  lastUsed: number;
  /** Durable have-set (complete: every group). */
  have: RangeSet;
  readers: number;
  writer?: FsContentWriter;
  removed: boolean;
  metaDirty: boolean;
  /** Serialises metadata writes. */
  metaChain: Promise<void>;
  /** The leaves file was checked against the root in this process (no need to re-hash). */
  leavesVerified?: boolean;
  /** Verified leaves, cached while a reader or writer is open (shared: never mutated). */
  leaves?: Uint8Array;
}

function presentBytes(have: RangeSet, size: number): number {
  const n = groupCount(size);
  let bytes = have.count * GROUP_SIZE;
  if (have.has(n - 1)) bytes -= GROUP_SIZE - groupLength(n - 1, size);
  return bytes;
}

function snapshot(e: Entry, pending?: RangeSet): StoredContent {
  const have = pending && !pending.empty ? e.have.clone().union(pending) : e.have;
  return {
    mcid: e.mcid,
    complete: e.complete,
    pinned: e.pinned,
    bytes: e.complete ? e.mcid.size : presentBytes(have, e.mcid.size),
    lastUsed: e.lastUsed,
  };
}

/** Runs async steps one after another; a failed step does not block the next. */
class Serial {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(step);
    this.#tail = next.catch(() => {});
    return next;
  }
}

/**
 * A content store on disk.
 *
 * @example
 * ```ts
 * import { FsContentStore } from "./fs-store.ts";
 * import { currentPlatform } from "../platform/current.ts";
 *
 * const dir = "/tmp/macula-store-example";
 * const store = new FsContentStore(currentPlatform().fs, dir, { quota: 1 << 30 });
 * await store.open();
 * const entry = await store.put(new Blob(["hello"]).stream(), { pin: true });
 * const reader = (await store.reader(entry.mcid))!;
 * new TextDecoder().decode(await reader.read(0, 5)); // "hello"
 * await reader.close();
 * await store.close();
 * ```
 */
export class FsContentStore implements ContentStore {
  /** Quota, bytes. */
  readonly quota: number;
  readonly #entries = new Map<string, Entry>();
  readonly #hashers = new Map<Codec, Promise<TreeHasher>>();
  readonly #handles = new Set<FileHandle>();
  readonly #persistMs: number;
  readonly #now: () => number;
  #lastPersist = 0;
  /** Bytes held for `put`s being finished. */
  #reserved = 0;
  #opened = false;

  /** A store in directory `dir` (created by `open`), reading and writing through `fs`. */
  constructor(private readonly fs: FsApi, readonly dir: string, options: FsContentStoreOptions = {}) {
    this.quota = options.quota ?? Number.MAX_SAFE_INTEGER;
    if (!(this.quota >= 0)) throw new RangeError(`quota must be a byte count, got ${options.quota}`);
    this.#persistMs = options.lastUsedPersistMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Path of a file in the store directory. */
  path(name: string): string {
    return this.fs.join(this.dir, name);
  }

  #file(e: { name: string }, kind: EntryFileKind): string {
    return this.path(entryFileName(e.name, kind));
  }

  /** Run an I/O step; runtime errors become a `ContentStoreError` naming `path`. */
  async #io<T>(what: string, path: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof ContentStoreError) throw error;
      throw new ContentStoreError(`content store: cannot ${what} ${path}: ${describeError(error)}`, path, {
        cause: error,
      });
    }
  }

  /** The tree hasher of `codec` (loaded once). */
  hasher(codec: Codec): Promise<TreeHasher> {
    let h = this.#hashers.get(codec);
    if (!h) this.#hashers.set(codec, h = loadHasher(codec));
    return h;
  }

  used(): number {
    let n = this.#reserved;
    for (const e of this.#entries.values()) n += e.mcid.size;
    return n;
  }

  async open(): Promise<void> {
    if (this.#opened) return;
    await this.#io("create", this.dir, () => this.fs.mkdir(this.dir, DIR_MODE));
    const names = await this.#io("list", this.dir, async () => (await this.fs.readDir(this.dir)) ?? []);
    const byEntry = new Map<string, Set<EntryFileKind>>();
    for (const name of names) {
      if (isTempFileName(name)) {
        await this.#io("remove", this.path(name), () => this.fs.remove(this.path(name)));
        continue;
      }
      const parsed = parseEntryFileName(name);
      if (!parsed) continue;
      let kinds = byEntry.get(parsed.mcidText);
      if (!kinds) byEntry.set(parsed.mcidText, kinds = new Set());
      kinds.add(parsed.kind);
    }
    for (const [text, kinds] of byEntry) await this.#load(text, kinds);
    this.#lastPersist = this.#now();
    this.#opened = true;
  }

  async #removeFiles(name: string, kinds: Iterable<EntryFileKind>): Promise<void> {
    for (const kind of kinds) {
      const path = this.#file({ name }, kind);
      await this.#io("remove", path, () => this.fs.remove(path));
    }
  }

  async #load(text: string, kinds: Set<EntryFileKind>): Promise<void> {
    let mcid: Mcid;
    try {
      mcid = Mcid.parse(text);
    } catch {
      return; // not ours: leave it alone
    }
    const complete = kinds.has("data");
    if (!complete && !kinds.has("part")) {
      // A put or remove cut short: metadata without content.
      await this.#removeFiles(text, kinds);
      return;
    }
    const content = this.#file({ name: text }, complete ? "data" : "part");
    const info = await this.#io("stat", content, () => this.fs.stat(content));
    if (complete && info?.size !== mcid.size) {
      await this.#removeFiles(text, ENTRY_FILE_KINDS);
      return;
    }
    if (complete) {
      // Completed (by a rename) just before a crash: the partial leftovers are stale.
      const stale: EntryFileKind[] = ["part", "have"];
      await this.#removeFiles(text, stale.filter((k) => kinds.has(k)));
    }
    let have = complete ? RangeSet.full(groupCount(mcid.size)) : new RangeSet();
    if (!complete && kinds.has("have")) {
      const path = this.#file({ name: text }, "have");
      const bytes = await this.#io("read", path, () => this.fs.readFile(path));
      have = (bytes && decodeHave(bytes, groupCount(mcid.size))) ?? new RangeSet();
    }
    if (!complete && (info?.size ?? 0) < mcid.size) {
      const path = content;
      const handle = await this.#io("open", path, () => this.fs.open(path, { write: true }));
      try {
        await this.#io("extend", path, () => handle.truncate(mcid.size));
      } finally {
        await handle.close();
      }
    }
    let meta = null;
    if (kinds.has("meta")) {
      const path = this.#file({ name: text }, "meta");
      const bytes = await this.#io("read", path, () => this.fs.readFile(path));
      meta = bytes && decodeMeta(bytes);
    }
    this.#entries.set(text, {
      mcid,
      name: text,
      complete,
      pinned: meta?.pinned ?? false,
      lastUsed: meta?.lastUsed ?? (info?.mtime || this.#now()),
      have,
      readers: 0,
      removed: false,
      metaDirty: meta === null,
      metaChain: Promise.resolve(),
    });
  }

  #check(): void {
    if (!this.#opened) throw new ContentStoreError(`content store ${this.dir} is not open`, this.dir);
  }

  /** Write `e`'s metadata now (serialised per entry; the newest state wins). */
  #saveMeta(e: Entry): Promise<void> {
    const step = e.metaChain.then(async () => {
      if (e.removed) return;
      e.metaDirty = false;
      const path = this.#file(e, "meta");
      await this.#io("write", path, () => this.fs.writeFileAtomic(path, encodeMeta(e), FILE_MODE));
    });
    e.metaChain = step.catch(() => {});
    return step;
  }

  async #persistDirty(): Promise<void> {
    this.#lastPersist = this.#now();
    for (const e of this.#entries.values()) if (e.metaDirty) await this.#saveMeta(e);
  }

  /** Mark `e` used now; its metadata is written in a batch. */
  async #touch(e: Entry): Promise<void> {
    e.lastUsed = Math.max(e.lastUsed, this.#now());
    e.metaDirty = true;
    if (this.#now() - this.#lastPersist >= this.#persistMs) await this.#persistDirty();
  }

  /** Bytes that eviction cannot free (pinned or open entries, `put`s in progress), except `spare`. */
  #unevictable(spare?: Entry): number {
    let n = this.#reserved;
    for (const e of this.#entries.values()) {
      if (e !== spare && (e.pinned || e.readers > 0 || e.writer)) n += e.mcid.size;
    }
    return n;
  }

  /**
   * Make room for `needed` more bytes, evicting unpinned idle entries least
   * recently used first (never `spare`); throws `QuotaExceededError` (evicting
   * nothing) when even that would not be enough.
   */
  async #makeRoom(needed: number, spare?: Entry): Promise<void> {
    const used = this.used();
    if (used + needed <= this.quota) return;
    if (this.#unevictable(spare) + (spare ? spare.mcid.size : 0) + needed > this.quota) {
      throw new QuotaExceededError(needed, this.quota);
    }
    const victims = [...this.#entries.values()]
      .filter((e) => e !== spare && !e.pinned && e.readers === 0 && !e.writer)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    let over = used + needed - this.quota;
    const removing: Promise<void>[] = [];
    for (const v of victims) {
      if (over <= 0) break;
      over -= v.mcid.size;
      removing.push(this.#drop(v));
    }
    await Promise.all(removing);
  }

  /** Forget `e` now (accounting) and delete its files. */
  async #drop(e: Entry): Promise<void> {
    e.removed = true;
    if (this.#entries.get(e.name) === e) this.#entries.delete(e.name);
    await e.metaChain;
    await this.#removeFiles(e.name, ENTRY_FILE_KINDS);
    await this.fs.syncDir(this.dir);
  }

  async put(
    source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<StoredContent> {
    this.#check();
    const builder = await TreeBuilder.create(options.codec ?? "blake3");
    const tmp = this.path(newPutTempName());
    const handle = await this.#io("create", tmp, () => this.fs.open(tmp, { write: true, createNew: true }));
    this.#handles.add(handle);
    let reserved = 0;
    try {
      let position = 0;
      const buffer = new Uint8Array(PUT_BUFFER);
      let fill = 0;
      const drain = async () => {
        if (fill === 0) return;
        await this.#io("write", tmp, () => handle.writeAt(buffer.subarray(0, fill), position - fill));
        fill = 0;
      };
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        builder.push(chunk);
        position += chunk.length;
        if (position > this.quota - this.#unevictable()) throw new QuotaExceededError(position, this.quota);
        if (chunk.length >= PUT_BUFFER / 2) {
          await drain();
          await this.#io("write", tmp, () => handle.writeAt(chunk, position - chunk.length));
        } else {
          if (fill + chunk.length > PUT_BUFFER) await drain();
          buffer.set(chunk, fill);
          fill += chunk.length;
        }
      }
      await drain();
      await this.#io("sync", tmp, () => handle.sync());
      this.#handles.delete(handle);
      await handle.close();
      const { mcid, leaves } = builder.finish();
      const name = mcid.toString();
      const existing = this.#entries.get(name);
      if (existing?.complete) {
        await this.fs.remove(tmp);
        if (options.pin && !existing.pinned) existing.pinned = true;
        existing.lastUsed = Math.max(existing.lastUsed, this.#now());
        await this.#saveMeta(existing);
        return snapshot(existing);
      }
      if (!existing) {
        await this.#makeRoom(mcid.size);
        this.#reserved += reserved = mcid.size;
      }
      const e: Entry = existing ?? {
        mcid,
        name,
        complete: false,
        pinned: false,
        lastUsed: 0,
        have: new RangeSet(),
        readers: 0,
        removed: false,
        metaDirty: false,
        metaChain: Promise.resolve(),
      };
      e.pinned ||= options.pin ?? false;
      e.lastUsed = this.#now();
      await this.writeLeaves(e, leaves);
      const metaPath = this.#file(e, "meta");
      await this.#io("write", metaPath, () => this.fs.writeFileAtomic(metaPath, encodeMeta(e), FILE_MODE));
      const dataPath = this.#file(e, "data");
      await this.#io("rename", tmp, () => this.fs.rename(tmp, dataPath));
      await this.fs.syncDir(this.dir);
      // A writer may have created a partial entry for the same content meanwhile: complete that one.
      const current = this.#entries.get(name);
      const done = current ?? e;
      done.complete = true;
      done.have = RangeSet.full(groupCount(mcid.size));
      done.writer?.supersede();
      if (current) await this.#removeFiles(name, ["part", "have"]);
      if (current && current !== e) {
        current.pinned ||= e.pinned;
        current.lastUsed = e.lastUsed;
        await this.#saveMeta(current);
      }
      this.#entries.set(name, done);
      return snapshot(done);
    } catch (error) {
      this.#handles.delete(handle);
      await handle.close().catch(() => {});
      await this.fs.remove(tmp).catch(() => {});
      throw error;
    } finally {
      this.#reserved -= reserved;
    }
  }

  get(mcid: Mcid): StoredContent | undefined {
    const e = this.#entries.get(mcid.toString());
    return e && snapshot(e, e.writer?.pending);
  }

  list(): StoredContent[] {
    return [...this.#entries.values()].map((e) => snapshot(e, e.writer?.pending));
  }

  /**
   * The entry's verified leaves (cached while open; from disk, hashed up to
   * the root once per process), or `undefined` if absent or wrong.
   */
  async #readLeaves(e: Entry): Promise<Uint8Array | undefined> {
    if (e.leaves) return e.leaves;
    const path = this.#file(e, "leaves");
    const bytes = await this.#io("read", path, () => this.fs.readFile(path));
    if (!bytes || bytes.length !== groupCount(e.mcid.size) * HASH_LENGTH) return undefined;
    if (!e.leavesVerified && !leavesMatch(await this.hasher(e.mcid.codec), e.mcid, bytes)) return undefined;
    e.leavesVerified = true;
    if (e.readers > 0 || e.writer) e.leaves = bytes;
    return bytes;
  }

  /** Drop the cached leaves of `e` once nothing has it open. */
  #idle(e: Entry): void {
    if (e.readers === 0 && !e.writer) e.leaves = undefined;
  }

  /** Leaves of a complete entry: from disk, or rebuilt from its data; `undefined` if the data is corrupt. */
  async #completeLeaves(e: Entry): Promise<Uint8Array | undefined> {
    const stored = await this.#readLeaves(e);
    if (stored) return stored;
    const path = this.#file(e, "data");
    const builder = await TreeBuilder.create(e.mcid.codec);
    await this.#io("read", path, async () => {
      for await (const chunk of this.fs.readStream(path, PUT_BUFFER)) builder.push(chunk);
    });
    const { mcid, leaves } = builder.finish();
    if (!mcid.equals(e.mcid)) return undefined;
    await this.writeLeaves(e, leaves);
    return leaves;
  }

  async writer(mcid: Mcid): Promise<ContentWriter> {
    this.#check();
    const name = mcid.toString();
    let e = this.#entries.get(name);
    if (e?.writer) throw new ContentStoreError(`content ${name} already has an open writer`);
    const created = !e;
    if (!e) {
      await this.#makeRoom(mcid.size);
      if (this.#entries.has(name)) return await this.writer(mcid); // created meanwhile
      e = {
        mcid,
        name,
        complete: false,
        pinned: false,
        lastUsed: this.#now(),
        have: new RangeSet(),
        readers: 0,
        removed: false,
        metaDirty: false,
        metaChain: Promise.resolve(),
      };
      this.#entries.set(name, e);
    }
    const entry = e;
    const writer = new FsContentWriter(this, entry);
    entry.writer = writer;
    try {
      if (entry.complete) {
        writer.attach(undefined, await this.#completeLeaves(entry));
      } else {
        const path = this.#file(entry, "part");
        const handle = await this.#io(
          "open",
          path,
          () => this.fs.open(path, { read: true, write: true, create: true }),
        );
        this.#handles.add(handle);
        writer.attach(handle, undefined);
        if (created) {
          await this.#io("extend", path, () => handle.truncate(mcid.size));
          await this.#saveMeta(entry);
        } else {
          const leaves = await this.#readLeaves(entry);
          writer.attach(handle, leaves);
          if (!leaves && !entry.have.empty) {
            entry.have = new RangeSet();
            await this.writeHave(entry);
          }
          await this.#touch(entry);
        }
      }
    } catch (error) {
      await writer.release();
      if (created) await this.#drop(entry).catch(() => {});
      throw error;
    }
    return writer;
  }

  async reader(mcid: Mcid): Promise<ContentReader | undefined> {
    this.#check();
    const e = this.#entries.get(mcid.toString());
    if (!e) return undefined;
    e.readers++;
    try {
      let leaves: Uint8Array | undefined;
      let have: RangeSet;
      if (e.complete) {
        leaves = await this.#completeLeaves(e);
        if (!leaves) {
          e.readers--;
          await this.#drop(e);
          return undefined;
        }
        have = e.have.clone();
      } else {
        // Groups a writer still holds in its coalescing buffer become readable first.
        await e.writer?.spill();
        leaves = await this.#readLeaves(e);
        have = leaves ? e.have.clone().union(e.writer?.pending ?? new RangeSet()) : new RangeSet();
      }
      const path = this.#file(e, e.complete ? "data" : "part");
      const handle = await this.#io("open", path, () => this.fs.open(path, { read: true }));
      this.#handles.add(handle);
      await this.#touch(e);
      return new FsContentReader(e.mcid, leaves, have, handle, path, async () => {
        this.#handles.delete(handle);
        e.readers--;
        this.#idle(e);
        await handle.close();
      });
    } catch (error) {
      e.readers--;
      this.#idle(e);
      throw error;
    }
  }

  async pin(mcid: Mcid, pinned: boolean): Promise<boolean> {
    this.#check();
    const e = this.#entries.get(mcid.toString());
    if (!e) return false;
    e.pinned = pinned;
    await this.#saveMeta(e);
    return true;
  }

  async remove(mcid: Mcid): Promise<boolean> {
    this.#check();
    const e = this.#entries.get(mcid.toString());
    if (!e) return false;
    await this.#drop(e);
    return true;
  }

  async close(): Promise<void> {
    if (!this.#opened) return;
    for (const e of this.#entries.values()) await e.writer?.close().catch(() => {});
    await this.#persistDirty();
    for (const h of this.#handles) await h.close().catch(() => {});
    this.#handles.clear();
    this.#entries.clear();
    this.#opened = false;
  }

  // ---- for FsContentWriter ----

  /** @internal Persist `e`'s durable have-set (atomic write). */
  async writeHave(e: Entry): Promise<void> {
    if (e.removed || e.complete) return;
    const path = this.#file(e, "have");
    await this.#io(
      "write",
      path,
      () => this.fs.writeFileAtomic(path, encodeHave(e.have, groupCount(e.mcid.size)), FILE_MODE),
    );
  }

  /** @internal Record verified leaves for `e`. */
  async writeLeaves(e: Entry, leaves: Uint8Array): Promise<void> {
    const path = this.#file(e, "leaves");
    await this.#io("write", path, () => this.fs.writeFileAtomic(path, leaves, FILE_MODE));
    e.leavesVerified = true;
    if (e.readers > 0 || e.writer) e.leaves = leaves;
  }

  /** @internal Turn partial `e` complete: rename `.part` to `.data`, drop the have-set. */
  async completeEntry(e: Entry): Promise<StoredContent> {
    const part = this.#file(e, "part");
    await this.#io("rename", part, () => this.fs.rename(part, this.#file(e, "data")));
    await this.fs.syncDir(this.dir);
    e.complete = true;
    e.have = RangeSet.full(groupCount(e.mcid.size));
    await this.#removeFiles(e.name, ["have"]);
    e.lastUsed = Math.max(e.lastUsed, this.#now());
    await this.#saveMeta(e);
    return snapshot(e);
  }

  /** @internal Forget the writer of `e`. */
  releaseWriter(e: Entry, handle: FileHandle | undefined): void {
    if (handle) this.#handles.delete(handle);
    e.writer = undefined;
    this.#idle(e);
  }

  /** @internal Mark `e` used. */
  touch(e: Entry): Promise<void> {
    return this.#touch(e);
  }

  /** @internal A snapshot of `e`. */
  stored(e: Entry, pending?: RangeSet): StoredContent {
    return snapshot(e, pending);
  }
}

/** The writer of one entry of an `FsContentStore`. */
class FsContentWriter implements ContentWriter {
  readonly mcid: Mcid;
  /** @internal Groups written but not yet durable. */
  pending: RangeSet = new RangeSet();
  #handle: FileHandle | undefined;
  #leaves: Uint8Array | undefined;
  #serial = new Serial();
  #closed = false;
  #superseded = false;
  /** Consecutive groups gathered for one write: `#bufGroups` groups from `#bufStart`. */
  #buf: Uint8Array | undefined;
  #bufStart = 0;
  #bufGroups = 0;
  #bufBytes = 0;

  constructor(private readonly store: FsContentStore, private readonly entry: Entry) {
    this.mcid = entry.mcid;
  }

  /** @internal */
  attach(handle: FileHandle | undefined, leaves: Uint8Array | undefined): void {
    this.#handle = handle;
    this.#leaves = leaves;
  }

  /** @internal A `put` completed the entry under us: from now on every call is a no-op. */
  supersede(): void {
    this.#superseded = true;
    this.pending = new RangeSet();
    this.#bufGroups = 0;
  }

  #usable(): boolean {
    if (this.#closed) throw new ContentStoreError(`writer of ${this.mcid} is closed`);
    if (this.entry.removed) throw new ContentStoreError(`content ${this.mcid} was removed while being written`);
    return !this.#superseded && !this.entry.complete;
  }

  leaves(): Uint8Array | undefined {
    return this.#leaves;
  }

  async setLeaves(leaves: Uint8Array): Promise<void> {
    if (!this.#usable()) return;
    if (this.#leaves) {
      if (this.#leaves.length === leaves.length && this.#leaves.every((b, i) => b === leaves[i])) return;
      throw new ContentVerificationError(`content ${this.mcid} already has different leaves`);
    }
    if (!leavesMatch(await this.store.hasher(this.mcid.codec), this.mcid, leaves)) {
      throw new ContentVerificationError(`leaves do not make the root of ${this.mcid}`);
    }
    const copy = leaves.slice();
    await this.store.writeLeaves(this.entry, copy);
    this.#leaves = copy;
  }

  have(): RangeSet {
    const have = this.entry.have.clone().union(this.pending);
    return this.#bufGroups > 0 ? have.add(this.#bufStart, this.#bufStart + this.#bufGroups) : have;
  }

  writeGroup(index: number, data: Uint8Array): Promise<void> {
    if (!this.#usable()) return Promise.resolve();
    const n = groupCount(this.mcid.size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
      return Promise.reject(new RangeError(`group ${index} is outside 0..${n - 1} of ${this.mcid}`));
    }
    if (data.length !== groupLength(index, this.mcid.size)) {
      return Promise.reject(
        new ContentVerificationError(
          `group ${index} of ${this.mcid} must be ${groupLength(index, this.mcid.size)} bytes, got ${data.length}`,
        ),
      );
    }
    if (!this.#leaves) {
      return Promise.reject(
        new ContentStoreError(`cannot write group ${index} of ${this.mcid} before its leaves`),
      );
    }
    return this.#serial.run(async () => {
      if (!this.#usable()) return;
      if (this.entry.have.has(index) || this.pending.has(index) || this.#buffered(index)) return;
      if (this.#bufGroups > 0 && index !== this.#bufStart + this.#bufGroups) await this.#drain();
      if (this.#bufGroups === 0) this.#bufStart = index;
      this.#buf ??= new Uint8Array(COALESCE_BYTES);
      this.#buf.set(data, this.#bufGroups * GROUP_SIZE);
      this.#bufGroups++;
      this.#bufBytes = (this.#bufGroups - 1) * GROUP_SIZE + data.length;
      if (this.#bufGroups * GROUP_SIZE >= COALESCE_BYTES || index === n - 1) await this.#drain();
    });
  }

  #buffered(index: number): boolean {
    return this.#bufGroups > 0 && index >= this.#bufStart && index < this.#bufStart + this.#bufGroups;
  }

  /** Write buffered groups out now, so that a reader opened next can read them (not yet durable). */
  spill(): Promise<void> {
    return this.#serial.run(async () => {
      if (this.#usable()) await this.#drain();
    });
  }

  /** Write the buffered run of groups to the file; they become pending (readable, not yet durable). */
  async #drain(): Promise<void> {
    if (this.#bufGroups === 0) return;
    const start = this.#bufStart, count = this.#bufGroups, bytes = this.#bufBytes;
    this.#bufGroups = 0;
    this.#bufBytes = 0;
    try {
      await this.#handle!.writeAt(this.#buf!.subarray(0, bytes), start * GROUP_SIZE);
    } catch (error) {
      throw new ContentStoreError(
        `content store: cannot write groups ${start}..${start + count - 1} of ${this.mcid}: ${describeError(error)}`,
      );
    }
    if (!this.#superseded) this.pending.add(start, start + count);
  }

  flush(): Promise<void> {
    return this.#serial.run(async () => {
      if (!this.#usable()) return;
      await this.#drain();
      if (this.pending.empty) return;
      const batch = this.pending;
      this.pending = new RangeSet();
      try {
        await this.#handle!.sync();
        this.entry.have.union(batch);
        await this.store.writeHave(this.entry);
      } catch (error) {
        this.pending.union(batch);
        if (error instanceof ContentStoreError) throw error;
        throw new ContentStoreError(`content store: cannot sync ${this.mcid}: ${describeError(error)}`);
      }
    });
  }

  async complete(): Promise<StoredContent> {
    if (!this.#usable()) return this.store.stored(this.entry);
    const n = groupCount(this.mcid.size);
    const have = this.have();
    if (!have.covers(0, n)) {
      throw new ContentStoreError(`cannot complete ${this.mcid}: ${n - have.count} of ${n} groups missing`);
    }
    await this.flush();
    return await this.#serial.run(async () => {
      await this.#handle!.sync();
      const stored = await this.store.completeEntry(this.entry);
      await this.release();
      return stored;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      if (!this.entry.removed) await this.flush();
    } finally {
      await this.release();
    }
  }

  /** @internal Close the file and detach from the entry (no flush). */
  async release(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const handle = this.#handle;
    this.#handle = undefined;
    this.store.releaseWriter(this.entry, handle);
    await handle?.close();
  }
}

/** A reader of one entry of an `FsContentStore`. */
class FsContentReader implements ContentReader {
  #closed = false;

  constructor(
    readonly mcid: Mcid,
    readonly leaves: Uint8Array | undefined,
    private readonly present: RangeSet,
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly onClose: () => Promise<void>,
  ) {}

  have(): RangeSet {
    return this.present.clone();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.#closed) throw new ContentStoreError(`reader of ${this.mcid} is closed`, this.path);
    const size = this.mcid.size;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`bad range ${offset}+${length} of ${this.mcid}`);
    }
    if (offset + length > size) {
      throw new RangeError(`range ${offset}+${length} is past the end (${size}) of ${this.mcid}`);
    }
    if (length === 0) return new Uint8Array(0);
    const first = Math.floor(offset / GROUP_SIZE), end = Math.ceil((offset + length) / GROUP_SIZE);
    if (!this.present.covers(first, end)) {
      throw new ContentStoreError(`bytes ${offset}..${offset + length} of ${this.mcid} are not present`, this.path);
    }
    const out = new Uint8Array(length);
    let got: number;
    try {
      got = await this.handle.readAt(out, offset);
    } catch (error) {
      throw new ContentStoreError(`content store: cannot read ${this.path}: ${describeError(error)}`, this.path, {
        cause: error,
      });
    }
    if (got !== length) {
      throw new ContentStoreError(`content store: ${this.path} is shorter than ${offset + length} bytes`, this.path);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.onClose();
  }
}
