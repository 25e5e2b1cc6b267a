/**
 * The DHT's lookup driver: runs an iterative lookup in one overlay over the
 * request channel, learning (and verifying) the peer records that replies
 * carry and keeping the routing table up to date with who answered.
 *
 * @module
 */
import { decodeNodeRecord } from "../identity/node-record.ts";
import type { Counter } from "../metrics/registry.ts";
import type { ServiceHost } from "../node/service.ts";
import type { RequestChannel } from "../node/request-channel.ts";
import { dhtId } from "./keys.ts";
import { iterativeLookup, type LookupPeer, type LookupResult } from "./lookup.ts";
import type { DhtReply } from "./messages.ts";
import type { Overlay } from "./overlay.ts";

/** The queries a lookup sends. */
export type LookupKind = "find_node" | "get_providers" | "get_value";

/** What the lookup driver needs from the DHT service. */
export interface DhtLookupsOptions {
  /** The node (its id and peer store). */
  node: ServiceHost;
  /** Where queries go. */
  channel: RequestChannel<DhtReply>;
  /** Bucket size and replication. */
  k: number;
  /** Parallel queries per lookup. */
  alpha: number;
  /** Deadline of one request, ms. */
  requestTimeout: number;
  /** Counts lookups started, by kind. */
  lookups: Counter;
  /** Counts queries that failed or timed out. */
  failures: Counter;
  /** Counts queries sent, by realm (optional). */
  queries?: Counter;
}

/**
 * Runs iterative lookups for the DHT service.
 *
 * @example
 * ```ts
 * import { DhtLookups } from "./dht-lookups.ts";
 * declare const options: import("./dht-lookups.ts").DhtLookupsOptions;
 * declare const overlay: import("./overlay.ts").Overlay;
 * declare const target: Uint8Array;
 * const lookups = new DhtLookups(options);
 * const { closest } = await lookups.run<never>(overlay, target, "find_node", () => []);
 * ```
 */
export class DhtLookups {
  readonly #o: DhtLookupsOptions;

  /** A driver that queries through `options.channel`. */
  constructor(options: DhtLookupsOptions) {
    this.#o = options;
  }

  /**
   * Look up `target` in overlay `o` with `kind` queries; `extract` takes the
   * values (records) out of each reply; `options.width` lowers k (the
   * closest peers that must answer before the lookup ends). Peers that answer become contacts,
   * peers that fail are dropped from the table. Returns the lookup's own
   * promise (no extra await: callers see the same scheduling as a direct
   * `iterativeLookup`).
   */
  run<V>(
    o: Overlay,
    target: Uint8Array,
    kind: LookupKind,
    extract: (reply: DhtReply) => V[],
    options: { enoughValues?: number; signal?: AbortSignal; width?: number } = {},
  ): Promise<LookupResult<V>> {
    const realm = o.name;
    this.#o.lookups.inc({ kind });
    return iterativeLookup<V>({
      target,
      self: this.#o.node.id,
      seeds: o.table.closest(target, this.#o.k).map((c) => ({ id: c.id, key: c.key })),
      k: Math.min(this.#o.k, options.width ?? this.#o.k),
      alpha: this.#o.alpha,
      enoughValues: options.enoughValues,
      signal: options.signal,
      query: async (peer) => {
        this.#o.queries?.inc({ realm });
        const reply = await this.#o.channel.request(peer.id, { t: kind, realm, key: target }, {
          timeout: this.#o.requestTimeout,
          signal: options.signal,
        });
        return { peers: this.#peersOf(realm, reply), values: extract(reply) };
      },
      onAnswer: (peer) => o.table.add(peer.id),
      onFailure: (peer) => {
        this.#o.failures.inc();
        o.table.remove(peer.id);
      },
    });
  }

  /** Decode, verify and remember the peer records of a reply. */
  #peersOf(realm: string, reply: DhtReply): LookupPeer[] {
    const out: LookupPeer[] = [];
    for (const bytes of reply.peers ?? []) {
      const record = decodeNodeRecord(bytes);
      if (!record.realms.includes(realm) || record.expires <= Date.now()) continue;
      if (record.id.equals(this.#o.node.id)) continue;
      this.#o.node.learn(record);
      out.push({ id: record.id, key: dhtId(record.id) });
    }
    return out;
  }
}
