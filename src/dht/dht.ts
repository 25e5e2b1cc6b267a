/**
 * The Kademlia DHT service: one overlay per realm (a node is a contact of
 * realm R only if its signed record lists R, and it answers only for its own
 * realms, so nothing crosses realms). Contacts are learned from identified
 * connections, from requests and from lookups; tables are refreshed
 * periodically; provider records are republished before they expire.
 * Requests from other nodes are answered by `DhtServer` (`dht-server.ts`),
 * lookups are run by `DhtLookups` (`dht-lookups.ts`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { NodeRecord } from "../identity/node-record.ts";
import { RequestChannel, serveRequests } from "../node/request-channel.ts";
import { type NodeService, type ServiceHost, type ServiceKey, serviceKey } from "../node/service.ts";
import { toHex } from "../util/bytes.ts";
import { MaculaError } from "../util/errors.ts";
import { WireError } from "../wire/errors.ts";
import { DhtLookups, type LookupKind } from "./dht-lookups.ts";
import { DHT_CLIENT_ROLE, DhtServer } from "./dht-server.ts";

export { DHT_CLIENT_ROLE };
import { dhtId, randomIdInBucket } from "./keys.ts";
import type { LookupResult } from "./lookup.ts";
import { DHT_PROTOCOL, type DhtReply, validateDhtReply, validateDhtRequest } from "./messages.ts";
import type { Overlay } from "./overlay.ts";
import { RecordStore, type StoreLimits } from "./record-store.ts";
import {
  createProviderRecord,
  createValueRecord,
  decodeProviderRecord,
  decodeValueRecord,
  encodeProviderRecord,
  encodeValueRecord,
  type ProviderRecord,
  valueKey,
  valueMatchesKey,
  type ValueRecord,
} from "./records.ts";
import { RoutingTable } from "./routing-table.ts";

/** Tunables of the DHT. */
export interface DhtOptions {
  /** Bucket size and replication. Default 20. */
  k?: number;
  /** Parallel queries per lookup. Default 3. */
  alpha?: number;
  /** Deadline of one request, ms. Default 2 000. */
  requestTimeout?: number;
  /** Buckets untouched this long are refreshed, ms. Default 15 min. */
  refreshInterval?: number;
  /** Lifetime of our provider records, ms. Default 1 hour. */
  providerTtl?: number;
  /** Republish period of our provider records, ms. Default half the TTL. */
  republishInterval?: number;
  /** Storage limits of the records this node holds for others, per realm. Defaults: see `StoreLimits`. */
  limits?: StoreLimits;
  /** Client only (browsers): answer no DHT requests; announce `DHT_CLIENT_ROLE` too. Default false. */
  client?: boolean;
}

/** A read-only view of the routing table of one realm (see `DhtService.table`). */
export interface RoutingTableView {
  /** This node's DHT id (SHA-256 of its public key); a lookup of it finds the node's neighbourhood. */
  readonly selfKey: Uint8Array;
  /** Number of contacts in the table. */
  readonly size: number;
  /** Is node `id` a contact? */
  has(id: NodeId): boolean;
}

/** The DHT has no overlay for the realm (this node does not run in it). */
export class RealmError extends MaculaError {
  /** Build the error (code `E_REALM`) for `realm`. */
  constructor(realm: string) {
    super("E_REALM", `this node does not run in realm ${JSON.stringify(realm)}`);
  }
}

interface Announcement {
  realm: string;
  key: Uint8Array;
  data?: unknown;
}

/** The key of the DHT service, for `node.service(DHT)` and `needs`. */
export const DHT: ServiceKey<DhtService> = serviceKey("dht");

/**
 * The DHT service (a default service of `Node`, named `dht`).
 *
 * @example
 * ```ts
 * import type { Node } from "../../mod.ts";
 * import { realmKey } from "./keys.ts";
 * declare const node: Node;
 * const key = realmKey("default", "rpc", "math.add");
 * await node.dht.provide("default", key);
 * const providers = await node.dht.findProviders("default", key);
 * ```
 */
export class DhtService implements NodeService {
  readonly name = "dht";
  #opts: Required<Omit<DhtOptions, "limits">> & { limits: StoreLimits };
  #node!: ServiceHost;
  #channel!: RequestChannel<DhtReply>;
  #overlays = new Map<string, Overlay>();
  #announcements = new Map<string, Announcement>();
  #lookups!: DhtLookups;
  #timers: ReturnType<typeof setInterval>[] = [];
  #off: Array<() => void> = [];
  #lastHops = 0;

  /** Build the DHT service with `options` (every field has a default); the node starts it. */
  constructor(options: DhtOptions = {}) {
    const providerTtl = options.providerTtl ?? 3_600_000;
    this.#opts = {
      k: 20,
      alpha: 3,
      requestTimeout: 2_000,
      refreshInterval: 15 * 60_000,
      providerTtl,
      republishInterval: options.republishInterval ?? providerTtl / 2,
      limits: {},
      client: false,
      ...options,
    };
  }

  start(node: ServiceHost): void {
    this.#node = node;
    this.#channel = new RequestChannel(node, DHT_PROTOCOL, validateDhtReply, { maxFrame: 512 * 1024 });
    for (const realm of node.realms) {
      this.#overlays.set(realm, {
        name: realm,
        table: new RoutingTable(node.id, { k: this.#opts.k, ping: (c) => this.#alive(c.id) }),
        store: new RecordStore(this.#opts.limits),
        bootstrapped: false,
      });
    }
    const registry = node.metrics;
    const lookups = registry.counter("macula_dht_lookups_total", "DHT lookups started, by kind.");
    const failures = registry.counter("macula_dht_query_failures_total", "DHT queries that failed or timed out.");
    const rejected = registry.counter("macula_dht_records_rejected_total", "DHT records not stored, by reason.");
    const queries = registry.counter("macula_dht_queries_total", "DHT lookup queries sent, by realm.");
    const { k, alpha, requestTimeout } = this.#opts;
    this.#lookups = new DhtLookups({
      node,
      channel: this.#channel,
      k,
      alpha,
      requestTimeout,
      lookups,
      failures,
      queries,
    });
    const server = new DhtServer({ node, overlay: (realm) => this.#overlay(realm), rejected });
    registry.gauge(
      "macula_dht_contacts",
      "Routing table contacts, by realm.",
      () => [...this.#overlays.values()].map((o) => [{ realm: o.name }, o.table.size]),
    );
    registry.gauge("macula_dht_records", "Records held, by realm.", () =>
      [...this.#overlays.values()].map((o) => {
        const s = o.store.stats();
        return [{ realm: o.name }, s.providers + s.values];
      }));
    this.#off.push(
      node.on("peer:identify", (record) => this.#learn(record)),
    );
    if (!this.#opts.client) {
      const serve = serveRequests(node, DHT_PROTOCOL, validateDhtRequest, (from, req) => server.serve(from, req), {
        maxFrame: 512 * 1024,
      });
      this.#off.push(serve);
    }
    const tick = Math.min(60_000, Math.max(1_000, this.#opts.refreshInterval / 4));
    this.#timers.push(
      setInterval(() => this.#maintain(), tick),
      setInterval(() => this.#republish(), this.#opts.republishInterval),
    );
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const off of this.#off) off();
    this.#timers = [];
    this.#off = [];
  }

  status(): Record<string, unknown> {
    return {
      lastLookupHops: this.#lastHops,
      realms: Object.fromEntries(
        [...this.#overlays.values()].map((o) => [o.name, { contacts: o.table.size, ...o.store.stats() }]),
      ),
    };
  }

  #overlay(realm: string): Overlay {
    const o = this.#overlays.get(realm);
    if (!o) throw new RealmError(realm);
    return o;
  }

  /**
   * The routing table of `realm`, read-only (for inspection, and to wait
   * until the node has contacts). Throws `RealmError` if the node does not
   * run in `realm`.
   *
   * @example
   * ```ts
   * import type { Node } from "../../mod.ts";
   * declare const node: Node;
   * // Wait for a first contact, then look up our own id to fill the table.
   * while (node.dht.table("default").size === 0) await new Promise((r) => setTimeout(r, 50));
   * await node.dht.lookup("default", node.dht.table("default").selfKey);
   * ```
   */
  table(realm: string): RoutingTableView {
    return this.#overlay(realm).table;
  }

  async #alive(id: NodeId): Promise<boolean> {
    try {
      await this.#node.ping(id, { signal: AbortSignal.timeout(this.#opts.requestTimeout) });
      return true;
    } catch {
      return false;
    }
  }

  #learn(record: NodeRecord): void {
    if (record.roles.includes(DHT_CLIENT_ROLE)) return;
    for (const realm of record.realms) {
      const o = this.#overlays.get(realm);
      if (!o) continue;
      const wasEmpty = o.table.size === 0;
      o.table.add(record.id);
      if (wasEmpty && !o.bootstrapped) {
        o.bootstrapped = true;
        // Join: a lookup of our own id fills the table with our neighbourhood;
        // then announce again what we provided while we knew nobody.
        this.lookup(realm, o.table.selfKey)
          .then(() => this.#republish(realm))
          .catch((error) =>
            this.#node.log.debug("DHT bootstrap lookup failed", { realm, error: (error as Error).message })
          );
      }
    }
  }

  async #run<V>(
    realm: string,
    target: Uint8Array,
    kind: LookupKind,
    extract: (reply: DhtReply) => V[],
    options: { enoughValues?: number; signal?: AbortSignal; width?: number } = {},
  ): Promise<LookupResult<V>> {
    const result = await this.#lookups.run<V>(this.#overlay(realm), target, kind, extract, options);
    this.#lastHops = result.hops;
    return result;
  }

  /**
   * The k closest nodes to `target` (a 32-byte DHT key) in `realm` that
   * answered (iterative FIND_NODE). Rejects with `RealmError` if the node
   * does not run in `realm`, with `AbortedError` when `signal` aborts.
   */
  lookup(realm: string, target: Uint8Array, signal?: AbortSignal): Promise<LookupResult<never>> {
    return this.#run<never>(realm, target, "find_node", () => [], { signal });
  }

  /** Find the signed record (addresses) of node `id` in `realm`. */
  async findNode(realm: string, id: NodeId, signal?: AbortSignal): Promise<NodeRecord | undefined> {
    const known = this.#node.peer(id)?.record;
    if (this.#node.connection(id) && known) return known;
    const result = await this.lookup(realm, dhtId(id), signal);
    return result.closest.some((p) => p.id.equals(id)) ? this.#node.peer(id)?.record : known;
  }

  /**
   * Announce that this node provides `key` in `realm` (with optional small
   * `data`): store a signed provider record at the k closest nodes, and keep
   * republishing it until `unprovide`. Resolves with how many nodes stored it.
   */
  async provide(realm: string, key: Uint8Array, data?: unknown): Promise<number> {
    const o = this.#overlay(realm);
    this.#announcements.set(`${realm}|${toHex(key)}`, { realm, key, data });
    const record = createProviderRecord(
      this.#node,
      this.#node.record(),
      realm,
      key,
      this.#opts.providerTtl,
      data,
    );
    o.store.addProvider(record);
    const { closest } = await this.lookup(realm, key);
    const encoded = encodeProviderRecord(record);
    const results = await Promise.allSettled(
      closest.map((p) =>
        this.#channel.request(p.id, { t: "add_provider", realm, rec: encoded }, { timeout: this.#opts.requestTimeout })
      ),
    );
    return results.filter((r) => r.status === "fulfilled").length;
  }

  /** Stop announcing `key` (records already stored expire on their own). */
  unprovide(realm: string, key: Uint8Array): void {
    this.#announcements.delete(`${realm}|${toHex(key)}`);
    // Our own record goes at once; copies held by others expire on their own.
    this.#overlays.get(realm)?.store.removeProvider(key, this.#node.id.hex);
  }

  /**
   * Providers of `key` in `realm`: local records plus an iterative lookup
   * that stops once `limit` providers are known. `width` narrows the lookup
   * to that many closest nodes (default k; records live at the k closest,
   * so a few suffice to find them, and a miss costs less).
   */
  async findProviders(
    realm: string,
    key: Uint8Array,
    options: { limit?: number; signal?: AbortSignal; width?: number } = {},
  ): Promise<ProviderRecord[]> {
    const o = this.#overlay(realm);
    const limit = options.limit ?? this.#opts.k;
    const found = new Map<string, ProviderRecord>();
    const keep = (r: ProviderRecord) => {
      if (r.expires <= Date.now() || r.realm !== realm) return;
      const prev = found.get(r.provider.id.hex);
      if (!prev || prev.expires < r.expires) found.set(r.provider.id.hex, r);
    };
    for (const r of o.store.providers(key)) {
      if (r.provider.id.equals(this.#node.id) && !this.#announcements.has(`${realm}|${toHex(key)}`)) continue;
      keep(r);
    }
    if (found.size < limit) {
      const result = await this.#run<ProviderRecord>(
        realm,
        key,
        "get_providers",
        (reply) => (reply.providers ?? []).map(decodeProviderRecord),
        { enoughValues: limit - found.size, signal: options.signal, width: options.width },
      );
      for (const r of result.values) keep(r);
    }
    for (const r of found.values()) this.#node.learn(r.provider);
    return [...found.values()];
  }

  /** Store a small signed value under (`realm`, this node, `name`). */
  async putValue(realm: string, name: string, value: Uint8Array, ttl = 3_600_000): Promise<number> {
    const o = this.#overlay(realm);
    const record = createValueRecord(this.#node, realm, name, value, Date.now(), ttl);
    o.store.putValue(record);
    const { closest } = await this.lookup(realm, valueKey(realm, this.#node.id, name));
    const encoded = encodeValueRecord(record);
    const results = await Promise.allSettled(
      closest.map((p) =>
        this.#channel.request(p.id, { t: "put_value", realm, rec: encoded }, { timeout: this.#opts.requestTimeout })
      ),
    );
    return results.filter((r) => r.status === "fulfilled").length;
  }

  /** Fetch the newest value `publisher` stored under `name` in `realm`. */
  async getValue(
    realm: string,
    publisher: NodeId,
    name: string,
    signal?: AbortSignal,
  ): Promise<ValueRecord | undefined> {
    const o = this.#overlay(realm);
    const key = valueKey(realm, publisher, name);
    const result = await this.#run<ValueRecord>(realm, key, "get_value", (reply) => {
      if (!reply.value) return [];
      const v = decodeValueRecord(reply.value);
      if (!valueMatchesKey(v, key)) throw new WireError("E_WIRE_INVALID", "value record", "record is for another key");
      return [v];
    }, { signal });
    let best = o.store.value(key);
    for (const v of result.values) if (!best || v.seq > best.seq) best = v;
    return best && best.expires > Date.now() ? best : undefined;
  }

  async #maintain(): Promise<void> {
    const now = Date.now();
    for (const o of this.#overlays.values()) {
      o.store.sweep(now);
      if (o.table.size === 0) continue;
      for (const index of o.table.staleBuckets(now - this.#opts.refreshInterval).slice(0, 8)) {
        o.table.touch(index);
        await this.lookup(o.name, randomIdInBucket(o.table.selfKey, index)).catch(() => {});
      }
    }
  }

  async #republish(realm?: string): Promise<void> {
    for (const a of [...this.#announcements.values()]) {
      if (realm !== undefined && a.realm !== realm) continue;
      await this.provide(a.realm, a.key, a.data).catch((error) =>
        this.#node.log.debug("DHT republish failed", { realm: a.realm, error: (error as Error).message })
      );
    }
  }
}
