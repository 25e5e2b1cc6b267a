/**
 * One level of a hierarchical lookup: the providers of a key in a level's
 * overlay, real provider records as they are and proxy records (a bridge
 * holding records from below) resolved with a `held` request; and the
 * checks every record received from a bridge goes through.
 *
 * @module
 */
import type { DhtService } from "../dht/dht.ts";
import { realmKey } from "../dht/keys.ts";
import { decodeProviderRecord, type ProviderRecord } from "../dht/records.ts";
import type { Counter } from "../metrics/registry.ts";
import type { RequestChannel } from "../node/request-channel.ts";
import type { ServiceHost } from "../node/service.ts";
import type { HeldRecords } from "./held.ts";
import type { HierKind, HierReply } from "./messages.ts";

/** The marker a proxy bridge puts in its provider records' data. */
export const PROXY_DATA = { hier: "proxy" } as const;

/** Is `data` the proxy marker? */
export function isProxy(data: unknown): boolean {
  return typeof data === "object" && data !== null && (data as { hier?: unknown }).hier === "proxy";
}

/** What `LevelLookups` needs from the hierarchy service. */
export interface LevelLookupsOptions {
  /** The node. */
  node: ServiceHost;
  /** Its DHT. */
  dht: DhtService;
  /** The bridges' request channel. */
  channel: RequestChannel<HierReply>;
  /** What this node holds as a proxy. */
  held: HeldRecords;
  /** The realm the hierarchy serves. */
  realm: string;
  /** The overlay of a level. */
  realmOf: (level: number) => string;
  /** Deadline of the work at one level, ms. */
  timeout: number;
  /** Proxies asked per level. */
  perLevel: number;
  /** Breadth of a level's DHT lookup (closest nodes that must answer). */
  width: number;
  /** Counts bridge requests sent, by type. */
  sent: Counter;
}

/**
 * Lookups at one level.
 *
 * @example
 * ```ts
 * import { LevelLookups } from "./level-lookup.ts";
 * declare const options: import("./level-lookup.ts").LevelLookupsOptions;
 * const levels = new LevelLookups(options);
 * const records = await levels.at("rpc", "math.add", 2, 5);
 * ```
 */
export class LevelLookups {
  #o: LevelLookupsOptions;

  /** Lookups with `options`. */
  constructor(options: LevelLookupsOptions) {
    this.#o = options;
  }

  /** Providers at one level: real records, and proxies resolved to the records they hold. */
  async at(kind: HierKind, name: string, level: number, limit: number): Promise<ProviderRecord[]> {
    const realm = this.#o.realmOf(level);
    const found = await this.#o.dht.findProviders(realm, realmKey(realm, kind, name), {
      limit,
      width: this.#o.width,
      signal: AbortSignal.timeout(this.#o.timeout),
    });
    const out = new Map<string, ProviderRecord>();
    const keep = (r: ProviderRecord) => {
      const prev = out.get(r.provider.id.hex);
      if (!prev || prev.expires < r.expires) out.set(r.provider.id.hex, r);
    };
    let asked = 0;
    for (const r of found) {
      if (out.size >= limit) break;
      if (!isProxy(r.data)) {
        keep(r);
        continue;
      }
      if (asked >= this.#o.perLevel) continue;
      const held = r.provider.id.equals(this.#o.node.id)
        ? this.#o.held.get(kind, name)
        : await this.#heldAt(r.provider.id, kind, name, level);
      if (held.length > 0) asked++;
      for (const h of held) keep(h);
    }
    return [...out.values()];
  }

  async #heldAt(peer: ProviderRecord["provider"]["id"], kind: HierKind, name: string, level: number) {
    this.#o.sent.inc({ t: "held" });
    try {
      const reply = await this.#o.channel.request(peer, { t: "held", kind, name, level }, {
        timeout: this.#o.timeout,
      });
      return this.verify(kind, name, reply.recs ?? []);
    } catch {
      return [];
    }
  }

  /** Decode (verifying signatures) records that must be for (`kind`, `name`) at a level of our realm. */
  verify(kind: HierKind, name: string, encoded: Uint8Array[]): ProviderRecord[] {
    const out: ProviderRecord[] = [];
    for (const bytes of encoded) {
      const r = decodeProviderRecord(bytes);
      if (r.expires <= Date.now() || isProxy(r.data)) continue;
      if (!r.realm.startsWith(`${this.#o.realm}@`)) continue;
      const k = realmKey(r.realm, kind, name);
      if (k.length !== r.key.length || k.some((b, i) => b !== r.key[i])) continue;
      this.#o.node.learn(r.provider);
      out.push(r);
    }
    return out;
  }
}
