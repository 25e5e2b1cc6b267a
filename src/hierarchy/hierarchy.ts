/**
 * The hierarchical DHT (service `hierarchy`): lookups are answered as
 * locally as possible and escalate level by level through bridges on a
 * miss.
 *
 * - A provider announces a key at its own level (an ordinary DHT provider
 *   record in the level overlay) and hands the signed record to bridges of
 *   its level, which announce themselves as proxies one level up, and so on
 *   while the announcement's `scope` allows.
 * - A lookup tries the node's own level; on a miss it asks a bridge of its
 *   level to resolve from the parent level (`find`), which on a miss asks a
 *   bridge of its own top level, up to the lookup's `scope`. Proxy records
 *   found at a level are resolved with `held` (the real signed records).
 * - Results are cached (with a TTL) by the asker and by every bridge on the
 *   way, so repeated lookups stop low.
 * - Bridges are found through the DHT of their level (they provide the level's
 *   bridge key) and tried closest to the level key first; a dead one is
 *   dropped and the next is used, and announcements are handed to live
 *   bridges again at every republish.
 *
 * @module
 */
import { DHT, type DhtService } from "../dht/dht.ts";
import { realmKey } from "../dht/keys.ts";
import { createProviderRecord, encodeProviderRecord, type ProviderRecord } from "../dht/records.ts";
import type { Counter } from "../metrics/registry.ts";
import { RequestChannel, serveRequests } from "../node/request-channel.ts";
import type { NodeService, ServiceHost, ServiceKey } from "../node/service.ts";
import { serviceKey } from "../node/service.ts";
import { Bridges } from "./bridges.ts";
import { HeldRecords } from "./held.ts";
import { LevelLookups, PROXY_DATA } from "./level-lookup.ts";
import { levelRealm, LocalityError, parseLocality, scopeLevel } from "./locality.ts";
import {
  HIER_PROTOCOL,
  type HierKind,
  type HierReply,
  MAX_REPLY_RECORDS,
  validateHierReply,
  validateHierRequest,
} from "./messages.ts";
import { HierServer } from "./server.ts";
import type { HierarchyOptions, HierFindOptions, HierLookup } from "./types.ts";

export type { HierarchyOptions, HierFindOptions, HierLookup } from "./types.ts";

/** Most lookup results a node caches. */
const MAX_CACHE = 4096;

/** The key of the hierarchy service, for `node.service(HIERARCHY)`. */
export const HIERARCHY: ServiceKey<HierarchyService> = serviceKey("hierarchy");

/**
 * The hierarchy service. Start the node with `locality` (and optionally
 * `bridge`) so that it joins the level overlays.
 *
 * @example
 * ```ts
 * import { HIERARCHY } from "./hierarchy.ts";
 * import type { Node } from "../../mod.ts";
 * declare const node: Node;
 * const hier = node.service(HIERARCHY)!;
 * await hier.provide("rpc", "sensor.read", { scope: "be" });
 * const { records, level } = await hier.findProviders("rpc", "sensor.read", { scope: "be" });
 * console.log(records.length, "found at level", level);
 * ```
 */
export class HierarchyService implements NodeService {
  readonly name = "hierarchy";
  readonly needs = [DHT];
  /** The locality path, outermost first. */
  readonly path: readonly string[];
  #opts: Required<Omit<HierarchyOptions, "realm" | "locality">>;
  #realm?: string;
  #node!: ServiceHost;
  #dht!: DhtService;
  #channel!: RequestChannel<HierReply>;
  #bridges!: Bridges;
  #held = new HeldRecords();
  #levels!: LevelLookups;
  #cache = new Map<string, { result: HierLookup; expires: number }>();
  #announced = new Map<string, { kind: HierKind; name: string; scope: number; data?: unknown }>();
  #answered!: Counter;
  #sent!: Counter;
  #off: Array<() => void> = [];
  #timers: ReturnType<typeof setInterval>[] = [];

  /** Build the service; throws `LocalityError` for a malformed locality. */
  constructor(options: HierarchyOptions) {
    this.path = typeof options.locality === "string" ? parseLocality(options.locality) : [...options.locality];
    if (typeof options.locality !== "string") parseLocality(this.path.join("/"));
    this.#realm = options.realm;
    this.#opts = {
      levelTimeout: options.levelTimeout ?? 3_000,
      cacheTtl: options.cacheTtl ?? 60_000,
      bridgesPerLevel: options.bridgesPerLevel ?? 3,
      republishInterval: options.republishInterval ?? 5 * 60_000,
      recordTtl: options.recordTtl ?? 3_600_000,
      lookupWidth: options.lookupWidth ?? 5,
    };
  }

  start(node: ServiceHost): void {
    this.#node = node;
    this.#realm ??= node.realms[0];
    this.#dht = node.use(DHT);
    if (!node.realms.includes(this.levelRealm(this.depth))) {
      throw new LocalityError(`the node does not run in its level overlay ${this.levelRealm(this.depth)}`);
    }
    this.#channel = new RequestChannel(node, HIER_PROTOCOL, validateHierReply);
    this.#answered = node.metrics.counter("macula_hier_answered_total", "Hierarchical lookups, by answering level.");
    this.#sent = node.metrics.counter("macula_hier_requests_total", "Bridge requests sent, by type.");
    this.#bridges = new Bridges({
      dht: this.#dht,
      self: node.id,
      realmOf: (level) => this.levelRealm(level),
      timeout: this.#opts.levelTimeout,
      ttl: this.#opts.cacheTtl,
    });
    this.#levels = new LevelLookups({
      node,
      dht: this.#dht,
      channel: this.#channel,
      held: this.#held,
      realm: this.#realm!,
      realmOf: (level) => this.levelRealm(level),
      timeout: this.#opts.levelTimeout,
      perLevel: this.#opts.bridgesPerLevel,
      width: this.#opts.lookupWidth,
      sent: this.#sent,
    });
    const server = new HierServer({
      node,
      member: (level) => this.isMember(level),
      realmOf: (level) => this.levelRealm(level),
      held: this.#held,
      up: (kind, name, level, rec, scope) => this.#up(kind, name, level, rec, scope),
      find: (kind, name, level, scope, limit, fresh) => this.#resolve(kind, name, level, scope, limit, fresh),
    });
    this.#off.push(serveRequests(node, HIER_PROTOCOL, validateHierRequest, (from, req) => server.serve(from, req)));
    // Bridges announce themselves in each level they bridge upwards from.
    for (let level = this.depth; level > this.top; level--) {
      void this.#dht.provide(this.levelRealm(level), this.#bridges.key(level)).catch(() => {});
    }
    this.#timers.push(setInterval(() => void this.republish(), this.#opts.republishInterval));
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const off of this.#off) off();
    this.#timers = [];
    this.#off = [];
  }

  status(): Record<string, unknown> {
    return {
      locality: this.path.join("/"),
      levels: { own: this.depth, top: this.top },
      held: this.#held.size,
      cached: this.#cache.size,
      announced: this.#announced.size,
    };
  }

  /** The node's own level (the depth of its locality path). */
  get depth(): number {
    return this.path.length;
  }

  /** The highest level (smallest number) this node is a member of (its own level unless it bridges). */
  get top(): number {
    let level = this.depth;
    while (level > 0 && this.isMember(level - 1)) level--;
    return level;
  }

  /** Is this node a member of level `level`'s overlay? */
  isMember(level: number): boolean {
    return level >= 0 && level <= this.depth && this.#node.realms.includes(this.levelRealm(level));
  }

  /** The overlay (realm name) of level `level` of this node's path. */
  levelRealm(level: number): string {
    return levelRealm(this.#realm ?? this.#node.realms[0], this.path, level);
  }

  /** The DHT key of (`kind`, `name`) at `level`. */
  key(kind: HierKind, name: string, level: number): Uint8Array {
    return realmKey(this.levelRealm(level), kind, name);
  }

  /**
   * Announce that this node provides (`kind`, `name`) at its own level and,
   * through bridges, up to `options.scope` (default global). Re-handed to
   * live bridges at every republish. Resolves with the highest level
   * reached.
   */
  async provide(
    kind: HierKind,
    name: string,
    options: { scope?: string | number; data?: unknown } = {},
  ): Promise<number> {
    const scope = scopeLevel(this.path, options.scope);
    this.#announced.set(`${kind}|${name}`, { kind, name, scope, data: options.data });
    return await this.#announce(kind, name, scope, options.data);
  }

  /** Stop announcing (`kind`, `name`); copies held elsewhere expire on their own. */
  unprovide(kind: HierKind, name: string): void {
    this.#announced.delete(`${kind}|${name}`);
    this.#dht.unprovide(this.levelRealm(this.depth), this.key(kind, name, this.depth));
  }

  /** Announce our bridge roles and hand every announcement to live bridges again (run on a timer; callable to repair at once). */
  async republish(): Promise<void> {
    for (let level = this.depth; level > this.top; level--) {
      await this.#dht.provide(this.levelRealm(level), this.#bridges.key(level)).catch(() => 0);
    }
    for (const { kind, name } of this.#held.sweep()) {
      for (let l = this.top; l < this.depth; l++) {
        this.#dht.unprovide(this.levelRealm(l), this.key(kind as HierKind, name, l));
      }
    }
    for (const a of [...this.#announced.values()]) {
      await this.#announce(a.kind, a.name, a.scope, a.data).catch(() => {});
    }
  }

  async #announce(kind: HierKind, name: string, scope: number, data?: unknown): Promise<number> {
    const own = this.depth;
    const realm = this.levelRealm(own);
    const key = this.key(kind, name, own);
    await this.#dht.provide(realm, key, data);
    if (scope >= own) return own;
    const record = createProviderRecord(this.#node, this.#node.record(), realm, key, this.#opts.recordTtl, data);
    return await this.#up(kind, name, own - 1, record, scope);
  }

  /**
   * Carry `record` to `level` and on up to `scope`: at each level this node
   * is a member of, hold it and announce a proxy; above that, hand it to
   * bridges of our top level. Resolves with the highest level reached.
   */
  async #up(kind: HierKind, name: string, level: number, record: ProviderRecord, scope: number): Promise<number> {
    let l = level;
    for (; l >= scope && this.isMember(l); l--) {
      this.#held.add(kind, name, l, record);
      await this.#dht.provide(this.levelRealm(l), this.key(kind, name, l), PROXY_DATA).catch(() => 0);
    }
    let reached = l + 1;
    if (l < scope) return reached;
    let handed = 0;
    const rec = encodeProviderRecord(record);
    for (const b of await this.#bridges.of(this.top)) {
      if (handed >= this.#opts.bridgesPerLevel) break;
      this.#sent.inc({ t: "up" });
      try {
        const reply = await this.#channel.request(b, { t: "up", kind, name, level: l, scope, rec }, {
          timeout: this.#opts.levelTimeout * (l - scope + 1),
        });
        handed++;
        reached = Math.min(reached, reply.level ?? l);
      } catch {
        this.#bridges.dead(this.top, b);
      }
    }
    return reached;
  }

  /**
   * Providers of (`kind`, `name`): the node's own level first, then, on a
   * miss, escalating through bridges level by level up to `options.scope`.
   */
  async findProviders(kind: HierKind, name: string, options: HierFindOptions = {}): Promise<HierLookup> {
    const scope = scopeLevel(this.path, options.scope);
    const result = await this.#resolve(kind, name, this.depth, scope, options.limit ?? 5, options.fresh);
    this.#answered.inc({ level: String(result.level) });
    return result;
  }

  /**
   * Every provider of (`kind`, `name`) within `options.scope` (default
   * global), not just the nearest: the lookup is made at the scope's level
   * alone (through bridges when this node is not a member of it), where the
   * bridges' proxies stand for every provider below that announced at least
   * that far. At most `limit` records (default and cap 32).
   */
  async findWithin(kind: HierKind, name: string, options: HierFindOptions = {}): Promise<HierLookup> {
    const scope = scopeLevel(this.path, options.scope);
    const result = await this.#resolve(
      kind,
      name,
      scope,
      scope,
      Math.min(options.limit ?? MAX_REPLY_RECORDS, MAX_REPLY_RECORDS),
      options.fresh,
    );
    this.#answered.inc({ level: String(result.level) });
    return result;
  }

  /**
   * Store a small signed value (at most 1 KiB encoded) under (this node,
   * `name`) at this node's level and, through bridges, up to
   * `options.scope`: it travels as the data of a provider record of key
   * `value/<node id hex>/<name>`, so the newest one announced wins.
   */
  async putValue(name: string, value: Uint8Array, options: { scope?: string | number } = {}): Promise<number> {
    return await this.provide("raw", valueName(this.#node.id.hex, name), { scope: options.scope, data: value });
  }

  /**
   * The value `publisher` stored under `name`, looked up like providers
   * (own level first, escalating up to `options.scope`); `undefined` if none.
   */
  async getValue(
    publisher: { hex: string },
    name: string,
    options: Omit<HierFindOptions, "limit"> = {},
  ): Promise<{ value: Uint8Array; level: number; cached: boolean } | undefined> {
    const found = await this.findProviders("raw", valueName(publisher.hex, name), { ...options, limit: 1 });
    const r = found.records.find((x) => x.provider.id.hex === publisher.hex && x.data instanceof Uint8Array);
    return r ? { value: r.data as Uint8Array, level: found.level, cached: found.cached } : undefined;
  }

  async #resolve(
    kind: HierKind,
    name: string,
    from: number,
    scope: number,
    limit: number,
    fresh = false,
  ): Promise<HierLookup> {
    const id = `${kind}|${name}|${from}|${scope}`;
    const hit = this.#cache.get(id);
    if (!fresh && hit && hit.expires > Date.now()) return { ...hit.result, cached: true };
    let result: HierLookup = { records: [], level: -1, cached: false };
    for (let level = from; level >= scope && level >= this.top; level--) {
      const records = await this.#levels.at(kind, name, level, limit).catch(() => []);
      if (records.length > 0) {
        result = { records, level, cached: false };
        break;
      }
    }
    if (result.level < 0 && this.top - 1 >= scope) {
      result = await this.#escalate(kind, name, from, scope, limit, fresh);
    }
    if (result.records.length > 0) {
      const expires = Math.min(Date.now() + this.#opts.cacheTtl, ...result.records.map((r) => r.expires));
      this.#cache.delete(id);
      this.#cache.set(id, { result, expires });
      // Bounded: the oldest entries go first.
      for (const old of this.#cache.keys()) {
        if (this.#cache.size <= MAX_CACHE) break;
        this.#cache.delete(old);
      }
    }
    return result;
  }

  /** Ask bridges of our top level to resolve from the level above it (or at `scope` alone when `from` is above that). */
  async #escalate(kind: HierKind, name: string, from: number, scope: number, limit: number, fresh: boolean) {
    const next = this.top - 1;
    for (const b of await this.#bridges.of(this.top)) {
      this.#sent.inc({ t: "find" });
      try {
        const reply = await this.#channel.request(b, {
          t: "find",
          kind,
          name,
          level: next,
          scope,
          limit,
          fresh: fresh || undefined,
          only: from < next || undefined,
        }, {
          timeout: this.#opts.levelTimeout * (next - scope + 2),
        });
        const records = this.#levels.verify(kind, name, reply.recs ?? []);
        return { records, level: records.length > 0 ? reply.level ?? next : -1, cached: false };
      } catch {
        this.#bridges.dead(this.top, b);
      }
    }
    return { records: [], level: -1, cached: false };
  }
}

function valueName(publisherHex: string, name: string): string {
  return `value/${publisherHex}/${name}`;
}
