/**
 * The serving side of the DHT: answers the requests of other nodes (ping,
 * find_node, get_providers, get_value, add_provider, put_value) from the
 * overlay of the requested realm, and caches the encoding of the peer
 * records it hands out.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { encodeNodeRecord, type NodeRecord } from "../identity/node-record.ts";
import type { Counter } from "../metrics/registry.ts";
import type { ServiceHost } from "../node/service.ts";
import { MaculaError } from "../util/errors.ts";
import { WireError } from "../wire/errors.ts";
import type { DhtRequest } from "./messages.ts";
import type { Overlay } from "./overlay.ts";
import {
  decodeProviderRecord,
  decodeValueRecord,
  encodeProviderRecord,
  encodeValueRecord,
  type ProviderRecord,
} from "./records.ts";

/** What the request server needs from the DHT service. */
export interface DhtServerOptions {
  /** The node (its peer store). */
  node: ServiceHost;
  /** The overlay of `realm`; throws `RealmError` if this node does not run in it. */
  overlay(realm: string): Overlay;
  /** Counts records not stored, by reason. */
  rejected: Counter;
}

/** The role of a DHT client: nodes keep peers announcing it out of their routing tables. */
export const DHT_CLIENT_ROLE = "dht-client";

/**
 * Answers DHT requests; the handler given to `serveRequests`.
 *
 * @example
 * ```ts
 * import { DhtServer } from "./dht-server.ts";
 * import { DHT_PROTOCOL, validateDhtRequest } from "./messages.ts";
 * import { serveRequests } from "../node/request-channel.ts";
 * declare const options: import("./dht-server.ts").DhtServerOptions;
 * const server = new DhtServer(options);
 * serveRequests(options.node, DHT_PROTOCOL, validateDhtRequest, (from, req) => server.serve(from, req));
 * ```
 */
export class DhtServer {
  readonly #o: DhtServerOptions;
  readonly #encoded = new WeakMap<NodeRecord, Uint8Array>();

  /** A server over the overlays and peer store of `options.node`. */
  constructor(options: DhtServerOptions) {
    this.#o = options;
  }

  /**
   * Answer `req` from `from`. A requester that runs in the realm becomes a
   * contact, unless it is a DHT client. Throws `RealmError`, `WireError` (a request missing its key or
   * record), or `MaculaError` (`E_FORBIDDEN`, `E_REJECTED`) for records not stored.
   */
  serve(from: NodeId, req: DhtRequest): unknown {
    const o = this.#o.overlay(req.realm);
    const record = this.#o.node.peer(from)?.record;
    if (record?.realms.includes(req.realm) && !record.roles.includes(DHT_CLIENT_ROLE)) o.table.add(from);
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
          this.#o.rejected.inc({ reason: why });
          throw new MaculaError("E_REJECTED", `value not stored: ${why}`);
        }
        return { ok: true };
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
      const record = this.#o.node.peer(c.id)?.record;
      if (record) out.push(this.#encode(record));
      if (out.length >= o.table.k) break;
    }
    return out;
  }

  #storeProvider(o: Overlay, record: ProviderRecord): { ok: true } {
    const why = o.store.addProvider(record);
    if (why && why !== "stale") {
      this.#o.rejected.inc({ reason: why });
      throw new MaculaError("E_REJECTED", `provider record not stored: ${why}`);
    }
    this.#o.node.learn(record.provider);
    return { ok: true };
  }
}
