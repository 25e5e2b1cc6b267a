/**
 * The provider side of `/macula/content/1`: answers one fetcher's session
 * from the content store. Control requests (want-have, want-tree, cancel)
 * are answered at once; want-blocks are queued and served in order, one
 * block frame (up to 16 groups) at a time, paced by a node-wide upload
 * rate. Every request gets an answer: a want-block's groups are each sent or
 * listed in a final dont-have (`missing`, `busy`, `denied`, `cancelled`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { Logger } from "../log/logger.ts";
import type { ByteStream } from "../transport/stream.ts";
import { TokenBucket } from "../util/token-bucket.ts";
import { WireError } from "../wire/errors.ts";
import { BufferedReader, writeFrame } from "../wire/frame.ts";
import {
  type ContentAnswer,
  type ContentRequest,
  decodeRequest,
  encodeAnswer,
  encodeBlockFrame,
  MAX_BLOCK_GROUPS,
  MAX_CONTENT_FRAME,
  MAX_RANGES,
} from "./messages.ts";
import type { Mcid } from "./mcid.ts";
import type { ContentMetrics } from "./metrics.ts";
import { RangeSet } from "./ranges.ts";
import type { ContentReader, ContentStore } from "./store.ts";
import { GROUP_SIZE, groupCount } from "./tree.ts";

/** Options of `ContentProvider`. */
export interface ProviderOptions {
  /** Where served content is read from. */
  store: ContentStore;
  /** Node-wide cap of serving, bytes/s (0 or absent: unlimited). */
  uploadRate?: number;
  /** Sessions that may be sent blocks at once (default 8); others get dont-have `busy`. */
  maxUploads?: number;
  /** Counters of served bytes and active uploads. */
  metrics?: ContentMetrics;
  /** Whether `peer` may fetch `mcid` (default: everyone); refused requests get dont-have `denied`. */
  authorize?: (peer: NodeId, mcid: Mcid) => boolean | Promise<boolean>;
  /** Where session problems are logged (debug). */
  log?: Logger;
}

/** Default `maxUploads`. */
export const DEFAULT_MAX_UPLOADS = 8;
/** Queued want-block requests per session beyond which new ones get dont-have `busy`. */
const MAX_QUEUED = 256;

interface BlockWork {
  id: number;
  mcid: Mcid;
  /** Groups not sent yet. */
  left: RangeSet;
  /** The block being paced, not yet written. */
  pending?: [number, number];
  /** A cancel ended it. */
  cancelled?: boolean;
}

/**
 * Serves content sessions.
 *
 * @example
 * ```ts
 * import { ContentProvider } from "./provider.ts";
 * import { MemoryContentStore } from "./memory-store.ts";
 * import { CONTENT_PROTOCOL } from "./messages.ts";
 * import type { NodeCore } from "../node/node.ts";
 * declare const node: NodeCore;
 * const provider = new ContentProvider({ store: new MemoryContentStore(), uploadRate: 4 << 20 });
 * node.handle(CONTENT_PROTOCOL, (stream) => provider.serve(stream, stream.remoteId));
 * ```
 */
export class ContentProvider {
  #store: ContentStore;
  #bucket: TokenBucket;
  #maxUploads: number;
  #uploads = 0;
  #metrics?: ContentMetrics;
  #authorize?: ProviderOptions["authorize"];
  #log: Logger;

  /** A provider serving from `options.store`. */
  constructor(options: ProviderOptions) {
    this.#store = options.store;
    this.#bucket = new TokenBucket(options.uploadRate ?? 0);
    this.#maxUploads = options.maxUploads ?? DEFAULT_MAX_UPLOADS;
    this.#metrics = options.metrics;
    this.#authorize = options.authorize;
    this.#log = options.log ?? Logger.silent();
  }

  /** Change the node-wide upload cap (bytes/s; 0 = unlimited). */
  setUploadRate(bytesPerSecond: number): void {
    this.#bucket = new TokenBucket(bytesPerSecond > 0 ? bytesPerSecond : 0);
  }

  /** Sessions currently holding an upload slot. */
  get activeUploads(): number {
    return this.#uploads;
  }

  /**
   * Handle one session on `stream` from `peer` until the fetcher closes
   * its side (then finish the queued work and close ours) or the stream
   * fails. Never throws: bad input resets the stream.
   */
  async serve(stream: ByteStream, peer: NodeId): Promise<void> {
    const session = new Session(this, stream, peer);
    try {
      await session.run();
    } catch (error) {
      this.#log.debug("content session ended", { peer: peer.short, error: error as Error });
      stream.reset(error instanceof WireError ? error.message : "content session failed");
    } finally {
      await session.release();
    }
  }

  /** @internal */
  get store(): ContentStore {
    return this.#store;
  }

  /** @internal */
  get metrics(): ContentMetrics | undefined {
    return this.#metrics;
  }

  /** @internal Pace `n` bytes of upload. */
  pace(n: number): Promise<void> {
    return this.#bucket.take(n);
  }

  /** @internal */
  acquireSlot(): boolean {
    if (this.#uploads >= this.#maxUploads) return false;
    this.#uploads++;
    this.#metrics?.uploads(1);
    return true;
  }

  /** @internal */
  releaseSlot(): void {
    this.#uploads--;
    this.#metrics?.uploads(-1);
  }

  /** @internal */
  authorized(peer: NodeId, mcid: Mcid): boolean | Promise<boolean> {
    return this.#authorize ? this.#authorize(peer, mcid) : true;
  }
}

/** One fetcher's session. */
class Session {
  #reader: BufferedReader;
  #writeTail: Promise<void> = Promise.resolve();
  #queue: BlockWork[] = [];
  #current?: BlockWork;
  #wake?: () => void;
  #ended = false;
  #failed = false;
  #slot = false;
  #readers = new Map<string, ContentReader>();
  /** The reader a block is being read from (a replaced one is closed once that read is done). */
  #busy?: ContentReader;
  #allowed = new Map<string, boolean>();

  constructor(private readonly p: ContentProvider, private readonly stream: ByteStream, private readonly peer: NodeId) {
    this.#reader = new BufferedReader(stream);
  }

  async run(): Promise<void> {
    const pump = this.#pump();
    // A failed write ends the session at once (the read loop then fails too); handled here, rethrown below.
    pump.catch((error) => {
      this.#failed = true;
      this.stream.reset(error instanceof Error ? error.message : "content session failed");
    });
    try {
      while (true) {
        const frame = await this.#reader.readFrame(MAX_CONTENT_FRAME, "content request");
        if (frame === null) break;
        await this.#handle(decodeRequest(frame));
      }
    } catch (error) {
      this.#failed = true;
      this.#ended = true;
      this.#wake?.();
      pump.catch(() => {}); // it stops at its next step (a store read may still be pending)
      throw error;
    }
    this.#ended = true;
    this.#wake?.();
    await pump;
    await this.#writeTail;
    await this.stream.closeWrite().catch(() => {});
  }

  async release(): Promise<void> {
    if (this.#slot) {
      this.#slot = false;
      this.p.releaseSlot();
    }
    for (const r of this.#readers.values()) await r.close().catch(() => {});
    this.#readers.clear();
  }

  /** Queue one frame for writing (writes keep their order). */
  #send(frame: Uint8Array, raw = false): Promise<void> {
    const next = this.#writeTail.then(() =>
      raw ? this.stream.write(frame) : writeFrame(this.stream, frame, MAX_CONTENT_FRAME)
    );
    this.#writeTail = next.catch(() => {});
    return next;
  }

  #answer(answer: ContentAnswer): Promise<void> {
    return this.#send(encodeAnswer(answer));
  }

  async #allowedFor(mcid: Mcid): Promise<boolean> {
    const key = mcid.toString();
    let ok = this.#allowed.get(key);
    if (ok === undefined) {
      ok = await this.p.authorized(this.peer, mcid);
      this.#allowed.set(key, ok);
    }
    return ok;
  }

  /** A reader of `mcid` (`fresh`: reopened, to see groups written since). */
  async #readerFor(mcid: Mcid, fresh: boolean): Promise<ContentReader | undefined> {
    const key = mcid.toString();
    const cached = this.#readers.get(key);
    if (cached && !fresh) return cached;
    const entry = this.p.store.get(mcid);
    if (cached && entry?.complete && cached.have().covers(0, groupCount(mcid.size))) return cached;
    const reader = await this.p.store.reader(mcid);
    if (cached && cached !== this.#busy) await cached.close().catch(() => {});
    if (reader) this.#readers.set(key, reader);
    else this.#readers.delete(key);
    return reader;
  }

  async #handle(req: ContentRequest): Promise<void> {
    if (req.t === "cancel") return this.#cancel(req.id);
    if (!(await this.#allowedFor(req.mcid))) {
      return this.#answer({
        t: "dont-have",
        id: req.id,
        ...(req.t === "want-block" ? { ranges: req.ranges } : {}),
        reason: "denied",
      });
    }
    if (req.t === "want-have") {
      const reader = await this.#readerFor(req.mcid, true);
      const all = RangeSet.full(groupCount(req.mcid.size));
      let have = reader?.leaves ? reader.have().intersect(req.ranges ?? all) : new RangeSet();
      if (have.size > MAX_RANGES) have = new RangeSet(have.toArray().slice(0, MAX_RANGES));
      if (have.empty) return this.#answer({ t: "dont-have", id: req.id, reason: "missing" });
      return this.#answer({ t: "have", id: req.id, ranges: have });
    }
    if (req.t === "want-tree") {
      const reader = await this.#readerFor(req.mcid, true);
      const leaves = reader?.leaves;
      if (!leaves) return this.#answer({ t: "dont-have", id: req.id, reason: "missing" });
      const end = Math.min(groupCount(req.mcid.size), req.from + req.count);
      return this.#answer({ t: "tree", id: req.id, from: req.from, hashes: leaves.slice(req.from * 32, end * 32) });
    }
    // want-block
    if (!this.#slot) this.#slot = this.p.acquireSlot();
    if (!this.#slot || this.#queue.length >= MAX_QUEUED) {
      return this.#answer({ t: "dont-have", id: req.id, ranges: req.ranges, reason: "busy" });
    }
    this.#queue.push({ id: req.id, mcid: req.mcid, left: req.ranges.clone() });
    this.#wake?.();
  }

  #cancel(id: number): Promise<void> {
    let work: BlockWork | undefined;
    if (this.#current?.id === id) {
      work = this.#current;
    } else {
      const i = this.#queue.findIndex((w) => w.id === id);
      if (i >= 0) [work] = this.#queue.splice(i, 1);
    }
    if (!work) return Promise.resolve();
    const left = work.left.clone();
    if (work.pending) left.add(...work.pending);
    work.left = new RangeSet();
    work.cancelled = true;
    if (left.empty) return Promise.resolve();
    return this.#dontHave(id, left, "cancelled");
  }

  /** Serve queued want-blocks, in order, until the session ends. */
  async #pump(): Promise<void> {
    while (true) {
      if (this.#failed) return;
      const work = this.#queue.shift();
      if (!work) {
        if (this.#ended) return;
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
        continue;
      }
      this.#current = work;
      try {
        await this.#serveWork(work);
      } finally {
        this.#current = undefined;
      }
    }
  }

  async #serveWork(work: BlockWork): Promise<void> {
    const size = work.mcid.size;
    const reader = await this.#readerFor(work.mcid, false);
    let have = reader?.have() ?? new RangeSet();
    if (reader && !have.covers(work.left.first ?? 0, (work.left.first ?? 0) + 1)) {
      // The entry may have grown since the reader was opened (we are fetching it too).
      const fresh = await this.#readerFor(work.mcid, true);
      have = fresh?.have() ?? new RangeSet();
    }
    const missing = work.left.clone().subtract(have);
    work.left.subtract(missing);
    while (!work.left.empty && !this.#failed) {
      // The next run of consecutive groups, at most MAX_BLOCK_GROUPS.
      const [[start, end]] = work.left.toArray().slice(0, 1);
      const n = Math.min(end - start, MAX_BLOCK_GROUPS);
      const offset = start * GROUP_SIZE;
      const length = Math.min(size, (start + n) * GROUP_SIZE) - offset;
      const r = this.#readers.get(work.mcid.toString());
      if (!r) break;
      let data: Uint8Array;
      this.#busy = r;
      try {
        data = await r.read(offset, length);
      } catch {
        missing.union(work.left);
        work.left = new RangeSet();
        break;
      } finally {
        this.#busy = undefined;
        if (this.#readers.get(work.mcid.toString()) !== r) await r.close().catch(() => {});
      }
      if (!work.left.covers(start, start + n)) continue; // cancelled meanwhile
      work.left.delete(start, start + n);
      work.pending = [start, start + n];
      await this.p.pace(length);
      if (work.cancelled) break; // listed in the cancel's dont-have
      work.pending = undefined;
      await this.#send(encodeBlockFrame(work.id, start, data), true);
      this.p.metrics?.served(length);
    }
    if (!missing.empty && !this.#failed) await this.#dontHave(work.id, missing, "missing");
  }

  /** Dont-have of `ranges`, split over several answers when they exceed `MAX_RANGES` ranges. */
  async #dontHave(id: number, ranges: RangeSet, reason: string): Promise<void> {
    const all = ranges.toArray();
    for (let i = 0; i < all.length; i += MAX_RANGES) {
      await this.#answer({ t: "dont-have", id, ranges: new RangeSet(all.slice(i, i + MAX_RANGES)), reason });
    }
  }
}
