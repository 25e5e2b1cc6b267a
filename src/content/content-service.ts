/**
 * The content service (`"content"`): content-addressed publish and fetch
 * on top of the node, the DHT and the connection layer, over direct and
 * relayed connections alike.
 *
 * - `publish` hashes content into the store and announces one provider
 *   record per MCID in the DHT.
 * - `fetch` streams verified bytes in order: from the store when the
 *   content is here, else from a download that asks connected peers first,
 *   then DHT providers, and pulls disjoint ranges from several providers at
 *   once (see `download.ts`). Concurrent fetches of one MCID share one
 *   download. Fetched content is kept and, by default, provided in turn.
 * - Serving (`/macula/content/1`) is default-deny through the node's
 *   authorization hook (operation `{ kind: "content", name: mcid }`, then
 *   `name` = each name the content was published under, so that a
 *   capability confined to a namespace can cover it) and capped by
 *   `uploadRate` and `maxUploads`.
 *
 * @module
 */
import { DHT, type DhtService } from "../dht/dht.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { NodeService, ServiceHost, ServiceKey } from "../node/service.ts";
import { serviceKey } from "../node/service.ts";
import { Emitter } from "../util/events.ts";
import { contentKey, discoverProviders } from "./discovery.ts";
import { announceNear, type ContentLocator, locatorFor } from "./locator.ts";
import { Download, type DownloadProgress } from "./download.ts";
import { CONTENT_PROTOCOL } from "./messages.ts";
import { ContentNotFoundError, InvalidContentNameError, InvalidMcidError } from "./errors.ts";
import { type Codec, loadHasher } from "./hash.ts";
import { Mcid } from "./mcid.ts";
import { ContentMetrics } from "./metrics.ts";
import { ContentProvider } from "./provider.ts";
import { contentStream } from "./read-stream.ts";
import type { RangeSet } from "./ranges.ts";
import type { ContentStore, StoredContent } from "./store.ts";

/** Default store quota, bytes (4 GiB). */
export const DEFAULT_CONTENT_QUOTA = 4 * 1024 ** 3;

/** Options of the content service. */
export interface ContentOptions {
  /** The store (default: on disk under `<dataDir>/content`, or in memory for nodes without a data dir). */
  store?: ContentStore;
  /** Store quota, bytes, when the service builds the store. Default 4 GiB (256 MiB in memory). */
  quota?: number;
  /** Node-wide serving cap, bytes/s; 0 = unlimited (default). */
  uploadRate?: number;
  /** Concurrent serving sessions. Default 8. */
  maxUploads?: number;
  /** Become a provider of fetched content. Default true. */
  provide?: boolean;
  /** Realm content is announced and looked up in. Default: the node's primary realm. */
  realm?: string;
  /** Opens a file for `publish(path)` (given by `Node.start` from the platform). */
  openFile?: (path: string) => Promise<ReadableStream<Uint8Array>>;
  /** Where providers are also announced and found (the hierarchy: set by `Node.start` for a node with a locality). */
  locator?: ContentLocator;
  /** A provider without progress for this long has its work given to others, ms (default: the download's). */
  stallTimeout?: number;
}

/** Options of `ContentService.publish`. */
export interface PublishOptions {
  /** Pin it (never evicted). */
  pin?: boolean;
  /** Hash codec. Default `blake3`. */
  codec?: Codec;
  /** Realm to announce it in. */
  realm?: string;
  /** Announce it only up to this level of the hierarchy (name or number; nodes with a locality). */
  scope?: string | number;
  /**
   * A dotted name inside a namespace to publish it under (e.g.
   * `io.acme.plant3.firmware`). Serving is then also authorized on it
   * (`{ kind: "content", name }`), so a capability confined to the
   * namespace covers fetching it. Names live in memory: after a restart,
   * publish again to restore them (the MCID's own grants still apply).
   */
  name?: string;
}

/** Longest name `PublishOptions.name` accepts, characters. */
export const MAX_CONTENT_NAME = 255;
const CONTENT_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
/** Names one MCID may be published under; more are refused. */
export const MAX_NAMES_PER_CONTENT = 16;

/** Options of `ContentService.fetch` and `download`. */
export interface FetchOptions {
  /** Cancels this fetch (the download stops when no other fetch waits for it; what it has stays for a resume). */
  signal?: AbortSignal;
  /** Called on progress (at most every 250 ms, and at the end). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Realm to look for providers in. */
  realm?: string;
  /** Look for providers only within this level of the hierarchy (name or number; nodes with a locality). */
  scope?: string | number;
  /** First byte to stream (default 0). */
  start?: number;
  /** End byte, exclusive (default the size). */
  end?: number;
}

/** Events of the content service. */
export type ContentEvents = {
  /** Content finished downloading and is in the store (Macula's `content_received`). */
  "content:received": [mcid: Mcid];
  /** This node announced itself as a provider of the content (Macula's `provide_content`). */
  "content:provided": [mcid: Mcid];
};

/** The service's key, for `host.use` and `node.service`. */
export const CONTENT: ServiceKey<ContentService> = serviceKey("content");

interface Running {
  download: Download;
  /** Groups verified and written so far. */
  present: RangeSet;
  abort: AbortController;
  users: number;
  done: Promise<StoredContent>;
  waiters: Set<{ resolve: () => void; reject: (e: unknown) => void }>;
}

function checkContentName(name: unknown): void {
  if (typeof name !== "string" || name.length > MAX_CONTENT_NAME || !CONTENT_NAME.test(name)) {
    throw new InvalidContentNameError(
      `content name ${JSON.stringify(name)}: expected dotted segments of letters, digits, '-' and '_', ` +
        `at most ${MAX_CONTENT_NAME} characters (e.g. "io.acme.plant3.firmware")`,
    );
  }
}

function asMcid(mcid: Mcid | string): Mcid {
  if (mcid instanceof Mcid) return mcid;
  if (typeof mcid !== "string") throw new InvalidMcidError("not a content id");
  return Mcid.parse(mcid);
}

/**
 * Content transfer as a node service.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * await using a = await Node.start({ port: 0, transports: ["tcp"], host: "127.0.0.1" });
 * const mcid = await a.content.publish(new TextEncoder().encode("hello mesh"));
 * await using b = await Node.start({ port: 0, transports: ["tcp"], host: "127.0.0.1", seeds: a.addrs });
 * const text = await new Response(b.content.fetch(mcid)).text(); // "hello mesh", verified
 * ```
 */
export class ContentService implements NodeService {
  /** Service name. */
  readonly name = "content";
  /** Runs after the DHT. */
  readonly needs = [DHT];
  #opts: ContentOptions;
  #store: ContentStore;
  #host?: ServiceHost;
  #dht?: DhtService;
  #metrics?: ContentMetrics;
  #provider?: ContentProvider;
  #running = new Map<string, Running>();
  #starting = new Map<string, Promise<Running>>();
  #events = new Emitter<ContentEvents>();
  #off: (() => void)[] = [];
  #stopped = new AbortController();
  #names = new Map<string, Set<string>>();

  /** A service over `store` (built by `Node.start` from the data dir when not given). */
  constructor(store: ContentStore, options: ContentOptions = {}) {
    this.#store = store;
    this.#opts = options;
  }

  /** The store. */
  get store(): ContentStore {
    return this.#store;
  }

  #realm(realm?: string): string {
    return realm ?? this.#opts.realm ?? this.#host!.realms[0];
  }

  /** Start: open the store, serve the protocol, announce what the store holds. */
  async start(host: ServiceHost): Promise<void> {
    this.#host = host;
    this.#dht = host.use(DHT);
    this.#metrics = new ContentMetrics(host.metrics);
    await this.#store.open();
    this.#provider = new ContentProvider({
      store: this.#store,
      uploadRate: this.#opts.uploadRate,
      maxUploads: this.#opts.maxUploads,
      metrics: this.#metrics,
      log: host.log,
      authorize: (peer, mcid) => this.#authorized(peer, mcid.toString()),
    });
    this.#off.push(host.handle(CONTENT_PROTOCOL, (stream) => this.#provider!.serve(stream, stream.remoteId)));
    for (const entry of this.#store.list()) {
      if (entry.complete) this.#announce(entry.mcid);
    }
  }

  /** May `peer` fetch `mcid`: on the MCID itself, else on a name it was published under. */
  async #authorized(peer: NodeId, mcid: string): Promise<boolean> {
    const host = this.#host!;
    const realm = this.#realm();
    if (await host.authorize(peer, { kind: "content", name: mcid, realm })) return true;
    for (const name of this.#names.get(mcid) ?? []) {
      if (await host.authorize(peer, { kind: "content", name, realm })) return true;
    }
    return false;
  }

  /** The names `mcid` was published under here (see `PublishOptions.name`). */
  names(mcid: Mcid | string): string[] {
    return [...this.#names.get(asMcid(mcid).toString()) ?? []];
  }

  /** Stop: cancel downloads (their progress stays for a resume), stop serving, close the store. */
  async stop(): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    this.#stopped.abort(new Error("content service stopped"));
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
    await this.#store.close();
  }

  /** A section for `/status`. */
  status(): Record<string, unknown> {
    const list = this.#store.list();
    return {
      entries: list.length,
      complete: list.filter((e) => e.complete).length,
      pinned: list.filter((e) => e.pinned).length,
      used: this.#store.used(),
      quota: this.#store.quota,
      downloads: this.#running.size,
    };
  }

  /** Listen to an event; returns the unsubscribe function. */
  on<K extends keyof ContentEvents>(event: K, listener: (...args: ContentEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  #announce(mcid: Mcid, realm?: string, scope?: string | number): void {
    const dht = this.#dht;
    if (!dht) return;
    const r = this.#realm(realm);
    const warn = (error: unknown) => this.#host?.log.debug("content announce failed", { error: String(error) });
    if (!announceNear(this.#opts.locator, r, mcid, scope, warn)) return;
    dht.provide(r, contentKey(r, mcid)).then(
      () => this.#events.emit("content:provided", mcid),
      (error) => this.#host?.log.debug("content announce failed", { mcid: mcid.toString(), error: String(error) }),
    );
  }

  /**
   * Publish content: store it (hashing as it streams in) and announce this
   * node as a provider. Returns the MCID. A `string` is a file path.
   */
  async publish(
    source: Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | string,
    options: PublishOptions = {},
  ): Promise<Mcid> {
    if (options.name !== undefined) checkContentName(options.name);
    let input: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
    if (typeof source === "string") {
      if (!this.#opts.openFile) throw new TypeError("publishing a path needs a node started with a platform file API");
      input = await this.#opts.openFile(source);
    } else if (source instanceof Uint8Array) {
      input = (async function* () {
        yield source;
      })();
    } else {
      input = source;
    }
    const entry = await this.#store.put(input, { pin: options.pin, codec: options.codec });
    if (options.name !== undefined) this.#addName(entry.mcid.toString(), options.name);
    this.#announce(entry.mcid, options.realm, options.scope);
    return entry.mcid;
  }

  #addName(mcid: string, name: string): void {
    let names = this.#names.get(mcid);
    if (!names) this.#names.set(mcid, names = new Set());
    if (!names.has(name) && names.size >= MAX_NAMES_PER_CONTENT) {
      throw new InvalidContentNameError(`content ${mcid} is already published under ${MAX_NAMES_PER_CONTENT} names`);
    }
    names.add(name);
  }

  /** Whether the content is complete in the store. */
  has(mcid: Mcid | string): boolean {
    return this.#store.get(asMcid(mcid))?.complete === true;
  }

  /** The store's entry, if any. */
  get(mcid: Mcid | string): StoredContent | undefined {
    return this.#store.get(asMcid(mcid));
  }

  /** Every entry of the store. */
  list(): StoredContent[] {
    return this.#store.list();
  }

  /** Pin content (never evicted); `false` if it is not here. */
  pin(mcid: Mcid | string): Promise<boolean> {
    return this.#store.pin(asMcid(mcid), true);
  }

  /** Unpin content; `false` if it is not here. */
  unpin(mcid: Mcid | string): Promise<boolean> {
    return this.#store.pin(asMcid(mcid), false);
  }

  /** Remove content from the store and stop providing it; `false` if it was not here. */
  async remove(mcid: Mcid | string): Promise<boolean> {
    const id = asMcid(mcid);
    const running = this.#running.get(id.toString());
    if (running) {
      running.abort.abort(new Error("content removed"));
      await running.done.catch(() => {});
    }
    const r = this.#realm();
    this.#dht?.unprovide(r, contentKey(r, id));
    locatorFor(this.#opts.locator, r)?.withdraw(id.toString());
    this.#names.delete(id.toString());
    return await this.#store.remove(id);
  }

  /** Downloads in progress. */
  transfers(): DownloadProgress[] {
    return [...this.#running.values()].map((r) => r.download.progress());
  }

  /** Start (or join) the download of `mcid`; concurrent callers share one. */
  #join(mcid: Mcid, options: FetchOptions): Promise<Running> {
    const key = mcid.toString();
    const running = this.#running.get(key);
    if (running) return Promise.resolve(running);
    let starting = this.#starting.get(key);
    if (!starting) {
      starting = this.#begin(mcid, options).finally(() => this.#starting.delete(key));
      this.#starting.set(key, starting);
    }
    return starting;
  }

  /** Open the writer, start the download and the provider search. */
  async #begin(mcid: Mcid, options: FetchOptions): Promise<Running> {
    const key = mcid.toString();
    const host = this.#host;
    if (!host) throw new Error("the content service is not started");
    const hasher = await loadHasher(mcid.codec);
    const writer = await this.#store.writer(mcid);
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, this.#stopped.signal]);
    const download = new Download({
      mcid,
      writer,
      hasher,
      signal,
      metrics: this.#metrics,
      log: host.log,
      stallTimeout: this.#opts.stallTimeout,
    });
    const r: Running = {
      download,
      present: writer.have().clone(),
      abort,
      users: 0,
      done: download.done,
      waiters: new Set(),
    };
    const wake = (error?: Error) => {
      for (const w of r.waiters) error ? w.reject(error) : w.resolve();
      r.waiters.clear();
    };
    download.onVerified((index) => {
      r.present.add(index);
      wake();
    });
    this.#running.set(key, r);
    r.done.then(
      () => {
        if (this.#opts.provide !== false) this.#announce(mcid, options.realm);
        this.#events.emit("content:received", mcid);
      },
      () => {},
    ).finally(() => {
      this.#running.delete(key);
      wake(new Error("download over"));
    });
    const { locator } = this.#opts;
    discoverProviders(host, this.#dht, mcid, download, {
      realm: this.#realm(options.realm),
      signal,
      locator,
      scope: options.scope,
    })
      .catch(() => {});
    return r;
  }

  /** Follow `running` with `options` (a signal and progress callback); returns the release function. */
  #use(running: Running, options: FetchOptions): () => void {
    running.users++;
    let timer: ReturnType<typeof setInterval> | undefined;
    if (options.onProgress) {
      const report = options.onProgress;
      timer = setInterval(() => report(running.download.progress()), 250);
    }
    const onAbort = () => release();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (timer !== undefined) clearInterval(timer);
      options.signal?.removeEventListener("abort", onAbort);
      running.users--;
      if (running.users === 0 && this.#running.get(running.download.progress().mcid) === running) {
        queueMicrotask(() => {
          if (running.users === 0) running.abort.abort(options.signal?.reason ?? new Error("no fetch waits for it"));
        });
      }
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    running.done.then(
      () => options.onProgress?.(running.download.progress()),
      () => {},
    ).finally(release);
    return release;
  }

  /**
   * Download `mcid` into the store (no bytes handed out). Resolves with the
   * stored entry; rejects with `ContentNotFoundError` when no provider has
   * it, or with the abort reason.
   */
  async download(mcid: Mcid | string, options: FetchOptions = {}): Promise<StoredContent> {
    const id = asMcid(mcid);
    const have = this.#store.get(id);
    if (have?.complete) return have;
    options.signal?.throwIfAborted();
    const running = await this.#join(id, options);
    const release = this.#use(running, options);
    try {
      if (!options.signal) return await running.done;
      const signal = options.signal;
      return await new Promise<StoredContent>((resolve, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        running.done.then(resolve, reject);
      });
    } finally {
      release();
    }
  }

  /**
   * Verified bytes of `mcid`, in order, as a stream: from the store, or
   * while downloading. The stream errors with `ContentNotFoundError` when
   * no provider has the content, with `InvalidMcidError` for a bad id.
   */
  fetch(mcid: Mcid | string, options: FetchOptions = {}): ReadableStream<Uint8Array> {
    let id: Mcid;
    try {
      id = asMcid(mcid);
    } catch (error) {
      return new ReadableStream({ start: (c) => c.error(error) });
    }
    const range = { start: options.start, end: options.end, signal: options.signal };
    if (this.#store.get(id)?.complete) return contentStream(this.#store, id, range);
    let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let release: (() => void) | undefined;
    return new ReadableStream<Uint8Array>({
      start: async () => {
        const running = await this.#join(id, options);
        release = this.#use(running, options);
        const follow = {
          present: (i: number) => running.present.has(i),
          changed: () =>
            new Promise<void>((resolve, reject) => {
              if (!this.#running.has(id.toString())) {
                running.done.then(() => resolve(), reject);
                return;
              }
              running.waiters.add({ resolve, reject: () => running.done.then(() => resolve(), reject) });
            }),
          done: running.done,
        };
        running.done.catch(() => {});
        inner = contentStream(this.#store, id, { ...range, follow }).getReader();
      },
      pull: async (controller) => {
        try {
          const { value, done } = await inner!.read();
          if (done) {
            release?.();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          release?.();
          controller.error(error instanceof Error ? error : new ContentNotFoundError(id.toString(), String(error)));
        }
      },
      cancel: async (reason) => {
        await inner?.cancel(reason);
        release?.();
      },
    }, { highWaterMark: 0 });
  }
}
