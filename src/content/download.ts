/**
 * The fetcher side of `/macula/content/1`: a verified, resumable, parallel
 * download from any number of providers.
 *
 * - **Leaves first.** Unless the writer already has them, the leaf hashes
 *   are fetched (want-tree pages) from one provider and checked against the
 *   MCID's root; a provider whose tree does not match is dropped and
 *   counted, and the next one is asked.
 * - **Every group verified** against its leaf before it is written; a bad
 *   group drops its provider for this download (counted) and its work goes
 *   back to the pool. Unverified bytes are never written or reported.
 * - **Disjoint shares, work stealing.** Each provider claims a share of the
 *   missing groups (within what it has) and requests it front to back with
 *   a pipeline of about two round trips at its measured rate (1–32 MiB). A
 *   provider left without work takes the un-requested tail of the largest
 *   share; at the very end, it may take over the last request in flight of
 *   a provider that would finish much later (that request is cancelled).
 * - **Stalls and failures.** A provider that sends nothing for
 *   `stallTimeout` while it has work has its requests cancelled and
 *   re-queued; late blocks that still verify and are missing are accepted,
 *   others counted as duplicate. A dead stream re-queues its work at once;
 *   a dont-have sends those groups to the others.
 * - **Resume.** Only the groups missing from `writer.have()` are fetched;
 *   the writer is flushed every few MiB, at the end, and on failure.
 *
 * Memory stays bounded: blocks are verified and written as they arrive,
 * and each stream's flow control keeps the rest in the network.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { Logger } from "../log/logger.ts";
import type { ByteStream } from "../transport/stream.ts";
import { AbortedError } from "../util/async.ts";
import { WireError } from "../wire/errors.ts";
import { BufferedReader, writeFrame } from "../wire/frame.ts";
import { ContentDeniedError, ContentNotFoundError, ContentVerificationError } from "./errors.ts";
import { HASH_LENGTH, type TreeHasher } from "./hash.ts";
import type { Mcid } from "./mcid.ts";
import {
  type ContentAnswer,
  decodeAnswer,
  encodeRequest,
  MAX_BLOCK_GROUPS,
  MAX_CONTENT_FRAME,
  MAX_TREE_PAGE,
} from "./messages.ts";
import type { ContentMetrics } from "./metrics.ts";
import { RangeSet } from "./ranges.ts";
import type { ContentWriter, StoredContent } from "./store.ts";
import { groupCount, groupLength, groupMatches, leavesMatch } from "./tree.ts";
import { RateMeter } from "./download-rate.ts";
import { bytesOf, ProviderSession } from "./download-session.ts";

/** A way to open a content session with one provider. */
export interface ProviderLink {
  /** The provider. */
  readonly peer: NodeId;
  /** Open a `/macula/content/1` stream to it. */
  open(signal?: AbortSignal): Promise<ByteStream>;
}

/** One provider's part in a download. */
export interface ProviderProgress {
  /** Its did. */
  peer: string;
  /** Bytes received from it. */
  bytes: number;
  /** `active`: has requests in flight; `idle`: none (or still connecting); `stalled`/`dropped`: out. */
  state: "active" | "idle" | "stalled" | "dropped";
  /** Why it is stalled or dropped. */
  reason?: string;
}

/** A download's progress. */
export interface DownloadProgress {
  /** The content id (text form). */
  mcid: string;
  /** Content size, bytes. */
  size: number;
  /** Verified bytes present (including those present before this run). */
  bytes: number;
  /** Bytes received this run (duplicates and bad blocks included). */
  fetched: number;
  /** Bytes received for groups already present. */
  duplicate: number;
  /** Groups that failed verification. */
  badBlocks: number;
  /** Leaf-hash sets that did not make the root. */
  badTrees: number;
  /** Every provider added. */
  providers: ProviderProgress[];
  /** Verified bytes/s over the last few seconds. */
  rate: number;
  /** Since the download was created, ms. */
  elapsed: number;
}

/** Options of `Download`. */
export interface DownloadOptions {
  /** What to fetch. */
  mcid: Mcid;
  /** Where verified groups go (its `have()` and `leaves()` say where to resume). */
  writer: ContentWriter;
  /** The hasher of `mcid.codec`. */
  hasher: TreeHasher;
  /** Cancels the download (`done` rejects with the reason). */
  signal?: AbortSignal;
  /** Counters of fetched, duplicate, verified bytes and bad blocks. */
  metrics?: ContentMetrics;
  /** Where provider problems are logged (debug). */
  log?: Logger;
  /** Ms without progress before a provider's outstanding work is given to others (default max(2 s, 8 RTT)). */
  stallTimeout?: number;
}

/** Flush the writer after this many bytes. */
const FLUSH_EVERY = 8 * 1024 * 1024;
/** Smallest share a provider claims from the pool, groups. */
const MIN_CLAIM = 16;
/** Largest want-block, groups (1 MiB). */
const MAX_REQUEST_GROUPS = 64;
/** How often stalls and busy back-offs are checked, ms. */
const TICK = 100;
/** End game: how much later (ms) than the taker a provider must be due before its last request is taken over. */
const STEAL_MARGIN = 150;
/**
 * Bytes of groups already present that a provider may send outside its
 * requests (late blocks after a cancel are fine; a flood is not) before it
 * is dropped.
 */
const MAX_WASTED = 48 * 1024 * 1024;
/** Busy answers after which a provider is dropped. */
const MAX_BUSY = 6;

/**
 * A download of one content id.
 *
 * @example
 * ```ts
 * import { Download, type ProviderLink } from "./download.ts";
 * import { loadHasher } from "./hash.ts";
 * import type { ContentStore } from "./store.ts";
 * import type { Mcid } from "./mcid.ts";
 * declare const store: ContentStore, mcid: Mcid, links: ProviderLink[];
 * const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
 * for (const link of links) download.addProvider(link);
 * download.noMoreProviders();
 * const entry = await download.done; // complete, every group verified
 * ```
 */
export class Download {
  /** Resolves with the complete entry; rejects `ContentNotFoundError` or the abort reason. */
  readonly done: Promise<StoredContent>;
  #o: DownloadOptions;
  #size: number;
  #groups: number;
  #leaves?: Uint8Array;
  #leavesFetch?: Promise<void>;
  #present: RangeSet;
  #missing: RangeSet;
  #pool: RangeSet;
  #writing = new Set<number>();
  #sessions = new Map<string, ProviderSession>();
  #listeners = new Set<(index: number) => void>();
  #noMore = false;
  #finished = false;
  #resolve!: (entry: StoredContent) => void;
  #reject!: (error: unknown) => void;
  #writeTail: Promise<void> = Promise.resolve();
  #sinceFlush = 0;
  #bytes = 0;
  #fetched = 0;
  #duplicate = 0;
  #badBlocks = 0;
  #badTrees = 0;
  #meter = new RateMeter(3000);
  #started = performance.now();
  #timer?: ReturnType<typeof setInterval>;
  #abort = new AbortController();
  #log: Logger;
  #onAbort = () => this.#fail(this.#o.signal?.reason ?? new AbortedError("download was cancelled"));

  /** Start a download (providers come with `addProvider`). */
  constructor(options: DownloadOptions) {
    this.#o = options;
    this.#log = options.log ?? Logger.silent();
    this.#size = options.mcid.size;
    this.#groups = groupCount(this.#size);
    this.#leaves = options.writer.leaves();
    this.#present = options.writer.have().intersect(RangeSet.full(this.#groups));
    this.#missing = RangeSet.full(this.#groups).subtract(this.#present);
    this.#pool = this.#missing.clone();
    this.#bytes = bytesOf(this.#present, this.#size);
    this.done = new Promise<StoredContent>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(() => {});
    options.metrics?.downloads(1);
    if (options.signal?.aborted) {
      this.#onAbort();
      return;
    }
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (this.#missing.empty) {
      this.#writeTail = this.#writeTail.then(() => this.#complete());
      return;
    }
    this.#timer = setInterval(() => this.#tick(), TICK);
  }

  /** Add a provider (ignored once finished, or if the peer was already added). */
  addProvider(link: ProviderLink): void {
    if (this.#finished || this.#sessions.has(link.peer.did)) return;
    const s = new ProviderSession(link.peer, this.#size);
    this.#sessions.set(link.peer.did, s);
    this.#runSession(s, link);
  }

  /** Discovery is over: fail with `ContentNotFoundError` once every provider is exhausted. */
  noMoreProviders(): void {
    this.#noMore = true;
    this.#checkExhausted();
  }

  /** Call `listener` with each group's index once it is verified and written; returns an unsubscribe function. */
  onVerified(listener: (index: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A snapshot of the progress. */
  progress(): DownloadProgress {
    return {
      mcid: this.#o.mcid.toString(),
      size: this.#size,
      bytes: this.#bytes,
      fetched: this.#fetched,
      duplicate: this.#duplicate,
      badBlocks: this.#badBlocks,
      badTrees: this.#badTrees,
      providers: [...this.#sessions.values()].map((s) => ({
        peer: s.did,
        bytes: s.bytes,
        state: s.state === "connecting" ? "idle" : s.state,
        ...(s.reason ? { reason: s.reason } : {}),
      })),
      rate: this.#meter.rate(),
      elapsed: performance.now() - this.#started,
    };
  }

  // ---- sessions ----

  async #runSession(s: ProviderSession, link: ProviderLink): Promise<void> {
    try {
      const stream = await link.open(this.#abort.signal);
      if (this.#finished || !s.usable) {
        stream.reset("download finished");
        return;
      }
      s.stream = stream;
      this.#readLoop(s);
      const t0 = performance.now();
      const answer = await s.control({ t: "want-have", id: s.nextId(), mcid: this.#o.mcid });
      s.rtt = Math.max(1, performance.now() - t0);
      if (answer.t !== "have") {
        const reason = answer.t === "dont-have" ? answer.reason ?? "missing" : `unexpected ${answer.t}`;
        return this.#drop(s, reason === "busy" ? "busy" : reason);
      }
      s.have = answer.ranges;
      while (!this.#leaves && s.usable && !this.#finished) {
        if (this.#leavesFetch) {
          await this.#leavesFetch;
          continue;
        }
        this.#leavesFetch = this.#fetchTree(s).finally(() => this.#leavesFetch = undefined);
        await this.#leavesFetch;
      }
      if (!s.usable || this.#finished) return;
      s.state = "idle";
      this.#fill(s);
    } catch (error) {
      if (s.usable) this.#drop(s, describe(error));
    }
  }

  async #readLoop(s: ProviderSession): Promise<void> {
    const reader = new BufferedReader(s.source());
    try {
      while (true) {
        const frame = await reader.readFrame(MAX_CONTENT_FRAME, "content answer");
        if (frame === null) {
          if (!this.#finished) this.#drop(s, "provider closed the session");
          return;
        }
        const answer = decodeAnswer(frame, this.#groups);
        if (answer.t === "block") await this.#onBlock(s, answer);
        else if (s.answered(answer)) continue;
        else if (answer.t === "dont-have") this.#onDontHave(s, answer);
        else throw new WireError("E_WIRE_INVALID", "content answer", `unexpected ${answer.t} to ${answer.id}`);
        if (this.#finished) break;
      }
      // Finished: read to the provider's end of the session (or until it is reset).
      while ((await reader.read()) !== null);
    } catch (error) {
      if (!this.#finished) this.#drop(s, describe(error));
    }
  }

  /** Fetch, check and store the leaf hashes from `s` (drops `s` if it fails). */
  async #fetchTree(s: ProviderSession): Promise<void> {
    // Every page is requested at once; each promise is settled into a value so none rejects unhandled.
    const pages: Promise<ContentAnswer | Error>[] = [];
    for (let from = 0; from < this.#groups; from += MAX_TREE_PAGE) {
      const count = Math.min(MAX_TREE_PAGE, this.#groups - from);
      pages.push(
        s.control({ t: "want-tree", id: s.nextId(), mcid: this.#o.mcid, from, count }).catch((e) =>
          e instanceof Error ? e : new Error(String(e))
        ),
      );
    }
    const leaves = new Uint8Array(this.#groups * HASH_LENGTH);
    let ok = true;
    for (const [i, page] of pages.entries()) {
      const answer = await page;
      if (answer instanceof Error) {
        if (s.usable) this.#drop(s, answer.message);
        return;
      }
      const from = i * MAX_TREE_PAGE;
      if (answer.t === "dont-have") return this.#drop(s, answer.reason ?? "missing");
      const want = Math.min(MAX_TREE_PAGE, this.#groups - from) * HASH_LENGTH;
      if (answer.t !== "tree" || answer.from !== from || answer.hashes.length !== want) ok = false;
      else leaves.set(answer.hashes, from * HASH_LENGTH);
    }
    if (ok && leavesMatch(this.#o.hasher, this.#o.mcid, leaves)) {
      try {
        await this.#o.writer.setLeaves(leaves);
        this.#leaves = leaves;
        this.#kick();
        return;
      } catch (error) {
        if (!(error instanceof ContentVerificationError)) throw error;
      }
    }
    this.#badTrees++;
    this.#o.metrics?.bad("tree");
    this.#drop(s, "leaf hashes do not match the content id");
  }

  // ---- answers ----

  async #onBlock(s: ProviderSession, answer: ContentAnswer & { t: "block" }): Promise<void> {
    const { id, index, data } = answer;
    this.#fetched += data.length;
    s.bytes += data.length;
    s.meter.add(data.length);
    this.#o.metrics?.fetched(data.length);
    if (!this.#leaves) throw new WireError("E_WIRE_INVALID", "content answer", "block before any request");
    // Split into whole groups.
    const parts: Array<[number, Uint8Array]> = [];
    let off = 0;
    for (let i = index; off < data.length || parts.length === 0; i++) {
      const len = groupLength(i, this.#size);
      if ((len === 0 && data.length > 0) || off + len > data.length || parts.length === MAX_BLOCK_GROUPS) {
        this.#bad(s, 1);
        return;
      }
      parts.push([i, data.subarray(off, off + len)]);
      off += len;
      if (len === 0) break;
    }
    const req = s.requests.get(id);
    const writes: Promise<void>[] = [];
    for (const [i, group] of parts) {
      if (this.#present.has(i) || this.#writing.has(i)) {
        this.#duplicate += group.length;
        this.#o.metrics?.duplicate(group.length);
        if (!req?.left.has(i) && (s.wasted += group.length) > MAX_WASTED) {
          this.#drop(s, "sends blocks nobody asked for");
          break;
        }
      } else if (!groupMatches(this.#o.hasher, this.#leaves, this.#size, i, group)) {
        this.#bad(s, 1);
        break;
      } else {
        writes.push(this.#write(i, group));
      }
      if (req?.left.has(i)) {
        req.left.delete(i);
        s.outstanding -= group.length;
      }
    }
    if (req && req.left.empty) s.requests.delete(id);
    if (writes.length) await Promise.all(writes);
    if (s.usable) this.#fill(s);
  }

  #onDontHave(s: ProviderSession, answer: ContentAnswer & { t: "dont-have" }): void {
    const req = s.requests.get(answer.id);
    if (!req) return; // a late answer to a cancelled request
    const gone = answer.ranges ? answer.ranges.intersect(req.left) : req.left.clone();
    req.left.subtract(gone);
    s.outstanding -= bytesOf(gone, this.#size);
    if (req.left.empty) s.requests.delete(answer.id);
    if (answer.reason === "busy") {
      s.busyStrikes++;
      s.busyUntil = performance.now() + Math.min(2000, 100 * 2 ** s.busyStrikes);
      gone.union(s.share);
      s.share = new RangeSet();
      if (s.busyStrikes >= MAX_BUSY) return this.#drop(s, "busy");
    } else if (answer.reason === "denied") {
      this.#requeue(gone);
      return this.#drop(s, "denied");
    } else {
      s.have.subtract(gone);
    }
    this.#requeue(gone);
    this.#kick();
    this.#checkExhausted();
  }

  // ---- writing ----

  /** Write verified group `i` (in order with the other writes); resolves once written. */
  #write(i: number, group: Uint8Array): Promise<void> {
    this.#writing.add(i);
    this.#pool.delete(i);
    for (const s of this.#sessions.values()) if (s.share.has(i)) s.share.delete(i);
    const next = this.#writeTail.then(async () => {
      if (this.#finished) return;
      await this.#o.writer.writeGroup(i, group);
      this.#writing.delete(i);
      this.#present.add(i);
      this.#missing.delete(i);
      this.#bytes += group.length;
      this.#sinceFlush += group.length;
      this.#meter.add(group.length);
      this.#o.metrics?.verified(group.length);
      for (const l of this.#listeners) {
        try {
          l(i);
        } catch (error) {
          this.#log.debug("onVerified listener failed", { error: error as Error });
        }
      }
      if (this.#missing.empty) return this.#complete();
      if (this.#sinceFlush >= FLUSH_EVERY) {
        this.#sinceFlush = 0;
        await this.#o.writer.flush();
      }
    });
    this.#writeTail = next.catch((error) => this.#fail(error));
    return next.catch(() => {});
  }

  async #complete(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#stop();
    try {
      const entry = await this.#o.writer.complete();
      await this.#o.writer.close().catch(() => {});
      this.#resolve(entry);
    } catch (error) {
      await this.#o.writer.close().catch(() => {});
      this.#reject(error);
    }
    this.#closeSessions(false);
  }

  #fail(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stop();
    this.#closeSessions(true);
    const writer = this.#o.writer;
    this.#writeTail.catch(() => {}).then(async () => {
      await writer.flush().catch(() => {});
      await writer.close().catch(() => {});
      this.#reject(error);
    });
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#o.signal?.removeEventListener("abort", this.#onAbort);
    this.#o.metrics?.downloads(-1);
  }

  #closeSessions(reset: boolean): void {
    this.#abort.abort();
    for (const s of this.#sessions.values()) {
      s.failWaiters(new AbortedError("download finished"));
      const stream = s.stream;
      if (!stream) continue;
      if (reset || s.requests.size > 0 || s.state === "stalled" || s.state === "dropped") {
        stream.reset("download finished");
        continue;
      }
      // Polite end: half-close, let the provider finish, reset if it lingers.
      stream.closeWrite().catch(() => {});
      const timer = setTimeout(() => stream.reset("download finished"), 2000);
      stream.closed.then(() => clearTimeout(timer));
    }
  }

  // ---- scheduling ----

  /** Groups back into the pool (those still missing and not being written). */
  #requeue(groups: RangeSet): void {
    for (const [s, e] of groups.intersect(this.#missing).toArray()) this.#pool.add(s, e);
    for (const i of this.#writing) this.#pool.delete(i);
  }

  #drop(s: ProviderSession, reason: string, stalled = false): void {
    if (s.state === "dropped" || (s.state === "stalled" && stalled)) return;
    s.state = stalled ? "stalled" : "dropped";
    s.reason = reason;
    this.#log.debug("content provider out", { peer: s.peer.short, reason, mcid: this.#o.mcid.toString() });
    const ids = [...s.requests.keys()];
    this.#requeue(s.takeAll());
    s.failWaiters(new AbortedError(reason));
    if (stalled) {
      // Keep reading: late blocks that verify are still welcome.
      for (const id of ids) s.send({ t: "cancel", id }).catch(() => {});
    } else {
      s.stream?.reset(reason);
    }
    this.#kick();
    this.#checkExhausted();
  }

  #bad(s: ProviderSession, groups: number): void {
    this.#badBlocks += groups;
    this.#o.metrics?.bad("block");
    this.#drop(s, "sent a block that does not match its hash");
  }

  /** Give every provider with room more work. */
  #kick(): void {
    if (this.#finished || !this.#leaves) return;
    for (const s of this.#sessions.values()) if (s.state === "active" || s.state === "idle") this.#fill(s);
  }

  /** Fill `s`'s pipeline up to its target. */
  #fill(s: ProviderSession): void {
    if (this.#finished || !this.#leaves || !s.stream) return;
    if (s.state !== "active" && s.state !== "idle") return;
    if (performance.now() >= s.busyUntil) {
      const target = s.target();
      const size = Math.max(MIN_CLAIM, Math.min(MAX_REQUEST_GROUPS, Math.floor(target / 4 / 16384)));
      while (s.outstanding < target) {
        if (s.share.empty && !this.#claim(s)) break;
        if (s.share.empty) continue; // the claim was a request taken over whole
        const ranges = s.share.take(size);
        s.request({ t: "want-block", id: s.nextId(), mcid: this.#o.mcid, ranges });
      }
    }
    s.state = s.requests.size > 0 ? "active" : "idle";
    if (s.state === "idle") this.#checkExhausted();
  }

  /** Find work for `s`: from the pool, else a stolen tail of the largest share, else (end game) a slow request. */
  #claim(s: ProviderSession): boolean {
    const avail = this.#pool.intersect(s.have);
    if (!avail.empty) {
      let usable = 0;
      for (const o of this.#sessions.values()) if (o.usable) usable++;
      const got = avail.take(Math.max(MIN_CLAIM, Math.ceil(avail.count / Math.max(1, usable))));
      this.#pool.subtract(got);
      s.share.union(got);
      return true;
    }
    let victim: ProviderSession | undefined, best = 0;
    for (const o of this.#sessions.values()) {
      if (o === s) continue;
      const n = o.share.intersect(s.have).count;
      if (n > best) [victim, best] = [o, n];
    }
    if (victim) {
      const stolen = victim.share.intersect(s.have).takeBack(Math.ceil(best / 2));
      victim.share.subtract(stolen);
      s.share.union(stolen);
      return true;
    }
    return this.#stealInFlight(s);
  }

  /**
   * End game: take over another provider's newest request in flight when
   * that provider would deliver its outstanding bytes much later than `s`
   * could deliver the request. The request is cancelled; groups it still
   * sends that verify and are missing are accepted (duplicates are bounded
   * by what was already on the way).
   */
  #stealInFlight(s: ProviderSession): boolean {
    const now = performance.now();
    const myRate = s.deliveryRate(now);
    if (myRate <= 0) return false;
    let pick: { o: ProviderSession; id: number; left: RangeSet } | undefined;
    let worst = 0;
    for (const o of this.#sessions.values()) {
      // Only the newest of several requests: the provider serves in order, so it has likely not started it.
      if (o === s || o.requests.size < 2) continue;
      const [id, req] = [...o.requests.entries()].at(-1)!;
      const left = req.left.intersect(s.have);
      if (left.empty || left.count !== req.left.count) continue;
      const bytes = bytesOf(left, this.#size);
      const theirEta = o.outstanding / Math.max(o.deliveryRate(now), 1) * 1000;
      const myEta = bytes / myRate * 1000 + s.rtt;
      if (!req.stolen && theirEta > 2 * myEta + STEAL_MARGIN && now - req.sentAt > o.rtt && theirEta > worst) {
        worst = theirEta;
        pick = { o, id, left };
      }
    }
    if (!pick) return false;
    const { o, id, left } = pick;
    o.requests.delete(id);
    o.outstanding -= bytesOf(left, this.#size);
    o.send({ t: "cancel", id }).catch(() => {});
    s.request({ t: "want-block", id: s.nextId(), mcid: this.#o.mcid, ranges: left }, true);
    return true;
  }

  /** Periodic: stalls, and providers back from a busy pause. */
  #tick(): void {
    if (this.#finished) return;
    const now = performance.now();
    for (const s of this.#sessions.values()) {
      if (!s.usable || !s.stream) continue;
      const waiting = s.requests.size > 0 || s.pendingControl > 0;
      const limit = this.#o.stallTimeout ?? Math.max(2000, 8 * s.rtt);
      if (waiting && now - s.lastProgress > limit) {
        this.#drop(s, `no data for ${Math.round(now - s.lastProgress)} ms`, true);
      } else if (s.state === "idle" && now >= s.busyUntil) {
        // Back from a busy pause, or (end game) a slow provider may have become worth taking work from.
        s.busyUntil = 0;
        this.#fill(s);
      }
    }
  }

  /** Once discovery is over: fail if no provider can make progress. */
  #checkExhausted(): void {
    if (this.#finished || !this.#noMore) return;
    for (const s of this.#sessions.values()) {
      if (!s.usable) continue;
      if (s.state === "connecting" || s.requests.size > 0 || s.busyUntil > 0) return;
      if (!s.have.intersect(this.#missing).empty) return;
    }
    if (this.#writing.size > 0) return;
    const sessions = [...this.#sessions.values()];
    if (sessions.length > 0 && sessions.every((s) => s.reason === "denied")) {
      return this.#fail(new ContentDeniedError(this.#o.mcid.toString(), sessions.length));
    }
    const reasons = sessions.map((s) => `${s.peer.short}: ${s.reason ?? "has nothing missing"}`);
    const detail = this.#sessions.size === 0
      ? "no provider has it"
      : `every provider failed or lacks the missing groups (${reasons.join("; ")})`;
    this.#fail(new ContentNotFoundError(this.#o.mcid.toString(), detail));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Ask `link`'s provider which groups of `mcid` it has, on a fresh session:
 * the ranges, or `null` if it answers dont-have. Rejects if the session
 * fails (or `signal` aborts).
 *
 * @example
 * ```ts
 * import { askHave, type ProviderLink } from "./download.ts";
 * import type { Mcid } from "./mcid.ts";
 * declare const link: ProviderLink, mcid: Mcid;
 * const ranges = await askHave(link, mcid); // RangeSet | null
 * ```
 */
export async function askHave(link: ProviderLink, mcid: Mcid, signal?: AbortSignal): Promise<RangeSet | null> {
  const stream = await link.open(signal);
  const onAbort = () => stream.reset("cancelled");
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await writeFrame(stream, encodeRequest({ t: "want-have", id: 1, mcid }), MAX_CONTENT_FRAME);
    await stream.closeWrite();
    const reply = await new BufferedReader(stream).readFrame(MAX_CONTENT_FRAME, "content answer");
    if (signal?.aborted) throw signal.reason ?? new AbortedError();
    if (reply === null) throw new WireError("E_WIRE_TRUNCATED", "content answer", "session ended without an answer");
    const answer = decodeAnswer(reply, groupCount(mcid.size));
    if (answer.id !== 1 || (answer.t !== "have" && answer.t !== "dont-have")) {
      throw new WireError("E_WIRE_INVALID", "content answer", `unexpected ${answer.t} to a want-have`);
    }
    return answer.t === "have" ? answer.ranges : null;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    stream.reset("done");
  }
}
