/**
 * The Kademlia DHT service: one overlay per realm (a node is a contact of
 * realm R only if its signed record lists R, and it answers only for its own
 * realms, so nothing crosses realms). Contacts are learned from identified
 * connections, from requests and from lookups; tables are refreshed
 * periodically; provider records are republished before they expire.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import type { NodeId } from "../identity/node-id.ts";
import { decodeNodeRecord, encodeNodeRecord, type NodeRecord } from "../identity/node-record.ts";
import type { Counter } from "../metrics/registry.ts";
import type { Node } from "../node/node.ts";
import { RequestChannel, serveRequests } from "../node/request-channel.ts";
import type { NodeService, ServiceContext } from "../node/service.ts";
import { toHex } from "../util/bytes.ts";
import { MaculaError } from "../util/errors.ts";
import { WireError } from "../wire/errors.ts";
import { dhtId, randomIdInBucket } from "./keys.ts";
import { iterativeLookup, type LookupPeer, type LookupResult } from "./lookup.ts";
import { DHT_PROTOCOL, type DhtReply, type DhtRequest, validateDhtReply, validateDhtRequest } from "./messages.ts";
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
  /** Storage limits per realm. */
  limits?: StoreLimits;
}

/** The DHT has no overlay for the realm (this node does not run in it). */
export class RealmError extends MaculaError {
  constructor(realm: string) {
    super("E_REALM", `this node does not run in realm ${JSON.stringify(realm)}`);
  }
}

interface Overlay {
  name: string;
  table: RoutingTable;
  store: RecordStore;
  bootstrapped: boolean;
}

interface Announcement {
  realm: string;
  key: Uint8Array;
  data?: unknown;
}

/**
 * The DHT service (registered by every node as `dht`).
 *
 * @example
 * ```ts
 * import type { Node } from "../node/node.ts";
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
  #node!: Node;
  #keyPair!: KeyPair;
  #channel!: RequestChannel<DhtReply>;
  #overlays = new Map<string, Overlay>();
  #announcements = new Map<string, Announcement>();
  #encoded = new WeakMap<NodeRecord, Uint8Array>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #off: Array<() => void> = [];
  #lookups!: Counter;
  #lookupFailures!: Counter;
  #rejected!: Counter;
  #lastHops = 0;

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
      ...options,
    };
  }

  start({ node, keyPair }: ServiceContext): void {
    this.#node = node;
    this.#keyPair = keyPair;
    this.#channel = new RequestChannel(node, DHT_PROTOCOL, validateDhtReply, { maxFrame: 512 * 1024 });
    for (const realm of node.realms) {
      this.#overlays.set(realm, {
        name: realm,
        table: new RoutingTable(node.id, { k: this.#opts.k, ping: (c) => this.#alive(c.id) }),
        store: new RecordStore(this.#opts.limits),
        bootstrapped: false,
      });
    }
    const registry = node.metrics.registry;
    this.#lookups = registry.counter("macula_dht_lookups_total", "DHT lookups started, by kind.");
    this.#lookupFailures = registry.counter("macula_dht_query_failures_total", "DHT queries that failed or timed out.");
    this.#rejected = registry.counter("macula_dht_records_rejected_total", "DHT records not stored, by reason.");
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
      serveRequests(node, DHT_PROTOCOL, validateDhtRequest, (from, req) => this.#serve(from, req), {
        maxFrame: 512 * 1024,
      }),
      node.on("peer:identify", (record) => this.#learn(record)),
    );
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

  /** The routing table of `realm` (for inspection and tests). */
  table(realm: string): RoutingTable {
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

  #encode(record: NodeRecord): Uint8Array {
    let bytes = this.#encoded.get(record);
    if (!bytes) this.#encoded.set(record, bytes = encodeNodeRecord(record));
    return bytes;
  }

  /** Records of the k contacts of `o` closest to `key`, excluding `requester`. */
  #closestRecords(o: Overlay, key: Uint8Array, requester?: NodeId): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const c of o.table.closest(key, o.table.k + 1)) {
      if (requester && c.id.equals(requester)) continue;
      const record = this.#node.peerStore.get(c.id)?.record;
      if (record) out.push(this.#encode(record));
      if (out.length >= o.table.k) break;
    }
    return out;
  }

  #serve(from: NodeId, req: DhtRequest): unknown {
    const o = this.#overlay(req.realm);
    if (this.#node.peerStore.get(from)?.record?.realms.includes(req.realm)) o.table.add(from);
    const key = () => {
      if (!req.key) throw new WireError("E_WIRE_INVALID", "dht request", `${req.t} needs a key`);
      return req.key;
    };
    const rec = () => {
      if (!req.rec) throw new WireError("E_WIRE_INVALID", "dht request", `${req.t} needs a record`);
      return req.rec;
    };
    switch (req.t) {
      case "ping":
        return { ok: true };
      case "find_node":
        return { peers: this.#closestRecords(o, key(), from) };
      case "get_providers":
        return {
          providers: o.store.providers(key()).slice(0, 64).map(encodeProviderRecord),
          peers: this.#closestRecords(o, key(), from),
        };
      case "get_value": {
        const v = o.store.value(key());
        return { value: v ? encodeValueRecord(v) : undefined, peers: this.#closestRecords(o, key(), from) };
      }
      case "add_provider": {
        const record = decodeProviderRecord(rec());
        if (!record.provider.id.equals(from)) throw new MaculaError("E_FORBIDDEN", "only a node can announce itself");
        if (record.realm !== req.realm) throw new MaculaError("E_FORBIDDEN", "record is for another realm");
        return this.#storeProvider(o, record);
      }
      case "put_value": {
        const record = decodeValueRecord(rec());
        if (!record.publisher.equals(from)) {
          throw new MaculaError("E_FORBIDDEN", "only the publisher can store its values");
        }
        if (record.realm !== req.realm) throw new MaculaError("E_FORBIDDEN", "record is for another realm");
        const why = o.store.putValue(record);
        if (why) {
          this.#rejected.inc({ reason: why });
          throw new MaculaError("E_REJECTED", `value not stored: ${why}`);
        }
        return { ok: true };
      }
    }
  }

  #storeProvider(o: Overlay, record: ProviderRecord): { ok: true } {
    const why = o.store.addProvider(record);
    if (why && why !== "stale") {
      this.#rejected.inc({ reason: why });
      throw new MaculaError("E_REJECTED", `provider record not stored: ${why}`);
    }
    this.#node.peerStore.upsertRecord(record.provider);
    return { ok: true };
  }

  /** Decode, verify and remember the peer records of a reply. */
  #peersOf(realm: string, reply: DhtReply): LookupPeer[] {
    const out: LookupPeer[] = [];
    for (const bytes of reply.peers ?? []) {
      const record = decodeNodeRecord(bytes);
      if (!record.realms.includes(realm) || record.expires <= Date.now()) continue;
      if (record.id.equals(this.#node.id)) continue;
      this.#node.peerStore.upsertRecord(record);
      out.push({ id: record.id, key: dhtId(record.id) });
    }
    return out;
  }

  async #run<V>(
    realm: string,
    target: Uint8Array,
    kind: "find_node" | "get_providers" | "get_value",
    extract: (reply: DhtReply) => V[],
    options: { enoughValues?: number; signal?: AbortSignal } = {},
  ): Promise<LookupResult<V>> {
    const o = this.#overlay(realm);
    this.#lookups.inc({ kind });
    const result = await iterativeLookup<V>({
      target,
      self: this.#node.id,
      seeds: o.table.closest(target, this.#opts.k).map((c) => ({ id: c.id, key: c.key })),
      k: this.#opts.k,
      alpha: this.#opts.alpha,
      enoughValues: options.enoughValues,
      signal: options.signal,
      query: async (peer) => {
        const reply = await this.#channel.request(peer.id, { t: kind, realm, key: target }, {
          timeout: this.#opts.requestTimeout,
          signal: options.signal,
        });
        return { peers: this.#peersOf(realm, reply), values: extract(reply) };
      },
      onAnswer: (peer) => o.table.add(peer.id),
      onFailure: (peer) => {
        this.#lookupFailures.inc();
        o.table.remove(peer.id);
      },
    });
    this.#lastHops = result.hops;
    return result;
  }

  /** The k closest nodes to `target` in `realm` (iterative FIND_NODE). */
  lookup(realm: string, target: Uint8Array, signal?: AbortSignal): Promise<LookupResult<never>> {
    return this.#run<never>(realm, target, "find_node", () => [], { signal });
  }

  /** Find the signed record (addresses) of node `id` in `realm`. */
  async findNode(realm: string, id: NodeId, signal?: AbortSignal): Promise<NodeRecord | undefined> {
    const known = this.#node.peerStore.get(id)?.record;
    if (this.#node.connection(id) && known) return known;
    const result = await this.lookup(realm, dhtId(id), signal);
    return result.closest.some((p) => p.id.equals(id)) ? this.#node.peerStore.get(id)?.record : known;
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
      this.#keyPair,
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
   * that stops once `limit` providers are known.
   */
  async findProviders(
    realm: string,
    key: Uint8Array,
    options: { limit?: number; signal?: AbortSignal } = {},
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
        { enoughValues: limit - found.size, signal: options.signal },
      );
      for (const r of result.values) keep(r);
    }
    for (const r of found.values()) this.#node.peerStore.upsertRecord(r.provider);
    return [...found.values()];
  }

  /** Store a small signed value under (`realm`, this node, `name`). */
  async putValue(realm: string, name: string, value: Uint8Array, ttl = 3_600_000): Promise<number> {
    const o = this.#overlay(realm);
    const record = createValueRecord(this.#keyPair, realm, name, value, Date.now(), ttl);
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
