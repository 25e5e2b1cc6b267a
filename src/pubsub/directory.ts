/**
 * Who subscribes to what: neighbours announce their patterns directly, and
 * every subscriber also announces them in the DHT as a provider record
 * under `(realm, "sub", root)` (the root is a pattern's first segment, or
 * `*`). A publisher looks up the roots of its topic (the first segment and
 * `*`), caches the answer briefly and refreshes it in the background.
 *
 * @module
 */
import type { DhtService } from "../dht/dht.ts";
import { realmKey } from "../dht/keys.ts";
import type { NodeId } from "../identity/node-id.ts";
import { withDeadline } from "../util/async.ts";
import { matches, rootOf, validatePattern } from "./topic.ts";

/** The DHT key of a subscription root. */
export function subscriptionKey(realm: string, root: string): Uint8Array {
  return realmKey(realm, "sub", root);
}

interface CacheEntry {
  /** subscriber hex → its patterns under this root. */
  subscribers: Map<string, { id: NodeId; patterns: string[] }>;
  fetchedAt: number;
  refreshing: Promise<void> | null;
}

/** The valid patterns in a subscription record's data (`{ p: [...] }`). */
export function patternsOf(data: unknown): string[] {
  const p = (data as { p?: unknown } | undefined)?.p;
  if (!Array.isArray(p)) return [];
  return p.filter((x): x is string => {
    try {
      return typeof x === "string" && validatePattern(x) === x;
    } catch {
      return false;
    }
  });
}

/** Options of the directory. */
export interface DirectoryOptions {
  /** How long a DHT answer is used before it is refreshed, ms. Default 5 000. */
  cacheTtl?: number;
  /** How long a publish waits for a first DHT answer, ms. Default 3 000. */
  firstLookupTimeout?: number;
}

/** Subscriber discovery for one node. */
export class SubscriberDirectory {
  #dht: DhtService;
  #self: NodeId;
  #opts: Required<DirectoryOptions>;
  #neighbours = new Map<string, { id: NodeId; realms: Map<string, string[]> }>();
  #cache = new Map<string, CacheEntry>();
  /** Answers per (realm, topic); any change bumps `#version` and invalidates them. */
  #answers = new Map<string, { ids: NodeId[]; at: number; version: number }>();
  #version = 0;
  #listeners = new Set<() => void>();

  constructor(dht: DhtService, self: NodeId, options: DirectoryOptions = {}) {
    this.#dht = dht;
    this.#self = self;
    this.#opts = { cacheTtl: 5_000, firstLookupTimeout: 3_000, ...options };
  }

  /**
   * Call `listener` whenever what the directory knows changes (an
   * announcement, a disconnect, a DHT answer); returns the unsubscribe.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    this.#version++;
    for (const listener of [...this.#listeners]) listener();
  }

  /** A neighbour announced its patterns in `realm` (replacing earlier ones). */
  setNeighbour(id: NodeId, realm: string, patterns: string[]): void {
    let entry = this.#neighbours.get(id.hex);
    if (!entry) this.#neighbours.set(id.hex, entry = { id, realms: new Map() });
    if (patterns.length === 0) entry.realms.delete(realm);
    else entry.realms.set(realm, patterns);
    this.#changed();
  }

  /** What the neighbours announced: per realm and pattern, the neighbours subscribed to it. */
  neighbourPatterns(): { realm: string; pattern: string; ids: NodeId[] }[] {
    const out = new Map<string, { realm: string; pattern: string; ids: NodeId[] }>();
    for (const { id, realms } of this.#neighbours.values()) {
      for (const [realm, patterns] of realms) {
        for (const pattern of patterns) {
          const key = `${realm}|${pattern}`;
          const entry = out.get(key) ?? { realm, pattern, ids: [] };
          entry.ids.push(id);
          out.set(key, entry);
        }
      }
    }
    return [...out.values()];
  }

  /** A neighbour disconnected. */
  dropNeighbour(id: NodeId): void {
    this.#neighbours.delete(id.hex);
    this.#changed();
  }

  /** Forget a subscriber found through the DHT (it proved unreachable). */
  forget(id: NodeId): void {
    for (const entry of this.#cache.values()) entry.subscribers.delete(id.hex);
    this.#changed();
  }

  async #refresh(realm: string, root: string, entry: CacheEntry): Promise<void> {
    try {
      const records = await this.#dht.findProviders(realm, subscriptionKey(realm, root), { limit: 1000 });
      const next = new Map<string, { id: NodeId; patterns: string[] }>();
      for (const r of records) {
        const patterns = patternsOf(r.data);
        if (patterns.length > 0) next.set(r.provider.id.hex, { id: r.provider.id, patterns });
      }
      entry.subscribers = next;
      entry.fetchedAt = Date.now();
      entry.refreshing = null;
      this.#changed();
    } catch {
      // keep the previous answer; try again on the next publish
    } finally {
      entry.refreshing = null;
    }
  }

  async #root(realm: string, root: string, refresh: boolean): Promise<CacheEntry> {
    const key = `${realm}|${root}`;
    let entry = this.#cache.get(key);
    const now = Date.now();
    if (!entry) {
      entry = { subscribers: new Map(), fetchedAt: 0, refreshing: null };
      this.#cache.set(key, entry);
    }
    if ((refresh || now - entry.fetchedAt > this.#opts.cacheTtl) && !entry.refreshing) {
      entry.refreshing = this.#refresh(realm, root, entry);
    }
    if ((refresh || entry.fetchedAt === 0) && entry.refreshing) {
      await withDeadline(entry.refreshing, this.#opts.firstLookupTimeout, "subscriber lookup").catch(() => {});
    }
    return entry;
  }

  /**
   * Subscribers of `topic` from fresh cached answers only, or `undefined`
   * when a DHT answer is missing or stale (then use `subscribers`).
   */
  cachedSubscribers(realm: string, topic: string): NodeId[] | undefined {
    const hit = this.#answers.get(`${realm}|${topic}`);
    if (hit && hit.version === this.#version && Date.now() - hit.at < this.#opts.cacheTtl) return hit.ids;
    return undefined;
  }

  /**
   * How many subscribers (other than us) are known for `topic` (or a
   * pattern) in `realm` right now, from announcements and cached DHT answers
   * only: no lookup, for the console.
   */
  known(realm: string, topic: string): number {
    const out = new Set<string>();
    for (const n of this.#neighbours.values()) {
      if (n.realms.get(realm)?.some((p) => matches(p, topic))) out.add(n.id.hex);
    }
    for (const root of new Set([rootOf(topic), "*"])) {
      for (const [hex, s] of this.#cache.get(`${realm}|${root}`)?.subscribers ?? []) {
        if (s.patterns.some((p) => matches(p, topic))) out.add(hex);
      }
    }
    out.delete(this.#self.hex);
    return out.size;
  }

  /**
   * Subscribers (other than us) whose patterns match `topic` in `realm`;
   * `refresh` asks the DHT again even if its cached answer is still fresh.
   */
  async subscribers(realm: string, topic: string, options: { refresh?: boolean } = {}): Promise<NodeId[]> {
    const refresh = options.refresh ?? false;
    const cached = refresh ? undefined : this.cachedSubscribers(realm, topic);
    if (cached) return cached;
    const version = this.#version;
    const at = Date.now();
    const out = new Map<string, NodeId>();
    for (const n of this.#neighbours.values()) {
      const patterns = n.realms.get(realm);
      if (patterns?.some((p) => matches(p, topic))) out.set(n.id.hex, n.id);
    }
    const roots = [...new Set([rootOf(topic), "*"])];
    const entries = await Promise.all(roots.map((r) => this.#root(realm, r, refresh)));
    for (const entry of entries) {
      for (const [hex, s] of entry.subscribers) {
        if (hex !== this.#self.hex && s.patterns.some((p) => matches(p, topic))) out.set(hex, s.id);
      }
    }
    out.delete(this.#self.hex);
    const ids = [...out.values()];
    if (version === this.#version && entries.every((e) => e.fetchedAt > 0)) {
      if (this.#answers.size >= 1024) this.#answers.clear();
      this.#answers.set(`${realm}|${topic}`, { ids, at, version });
    }
    return ids;
  }
}
