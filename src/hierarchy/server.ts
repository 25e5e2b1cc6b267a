/**
 * The bridge side of `/macula/hier/1`: holds records handed up (`up`),
 * returns what it holds (`held`) and resolves escalated lookups (`find`).
 *
 * @module
 */
import { realmKey } from "../dht/keys.ts";
import { decodeProviderRecord, encodeProviderRecord, type ProviderRecord } from "../dht/records.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { ServiceHost } from "../node/service.ts";
import { MaculaError } from "../util/errors.ts";
import type { HeldRecords } from "./held.ts";
import type { HierKind, HierRequest } from "./messages.ts";
import { MAX_REPLY_RECORDS } from "./messages.ts";

/** What the server needs from the hierarchy service. */
export interface HierServerOptions {
  /** The node. */
  node: ServiceHost;
  /** Is this node a member of `level`? */
  member: (level: number) => boolean;
  /** The overlay of a level of this node's path. */
  realmOf: (level: number) => string;
  /** Records held as a proxy. */
  held: HeldRecords;
  /** Hold and announce `rec` from `level` up to `scope`; resolves with the level reached. */
  up: (kind: HierKind, name: string, level: number, rec: ProviderRecord, scope: number) => Promise<number>;
  /** Resolve from `level` up to `scope`. */
  find: (
    kind: HierKind,
    name: string,
    level: number,
    scope: number,
    limit: number,
    fresh: boolean,
  ) => Promise<{ records: ProviderRecord[]; level: number }>;
}

/**
 * Serves bridge requests.
 *
 * @example
 * ```ts
 * import { HierServer } from "./server.ts";
 * declare const options: import("./server.ts").HierServerOptions;
 * declare const from: import("../identity/node-id.ts").NodeId;
 * const server = new HierServer(options);
 * await server.serve(from, { t: "held", kind: "rpc", name: "math.add", level: 1 });
 * ```
 */
export class HierServer {
  #o: HierServerOptions;

  /** A server over `options`. */
  constructor(options: HierServerOptions) {
    this.#o = options;
  }

  /**
   * Answer `req` from `from`. Throws `MaculaError` `E_FORBIDDEN` when this
   * node is not a member of the level asked, `E_REJECTED` for a record that
   * is not for the key or not from below that level, and `WireError` for a
   * malformed record.
   */
  async serve(from: NodeId, req: HierRequest): Promise<unknown> {
    void from;
    switch (req.t) {
      case "held":
        return { recs: this.#o.held.get(req.kind, req.name).slice(0, MAX_REPLY_RECORDS).map(encodeProviderRecord) };
      case "up": {
        this.#member(req.level);
        if (!req.rec) throw new MaculaError("E_REJECTED", "up needs a record");
        const rec = decodeProviderRecord(req.rec);
        const below = this.#o.realmOf(req.level);
        const prefix = req.level === 0 ? below : `${below}/`;
        if (!rec.realm.startsWith(prefix) || rec.realm === below) {
          throw new MaculaError("E_REJECTED", `record of ${rec.realm} is not from below ${below}`);
        }
        const key = realmKey(rec.realm, req.kind, req.name);
        if (key.some((b, i) => b !== rec.key[i])) throw new MaculaError("E_REJECTED", "record is for another key");
        if (rec.expires <= Date.now()) throw new MaculaError("E_REJECTED", "record has expired");
        const level = await this.#o.up(req.kind, req.name, req.level, rec, Math.min(req.scope ?? 0, req.level));
        return { ok: true, level };
      }
      case "find": {
        this.#member(req.level);
        const scope = Math.min(req.scope ?? 0, req.level);
        const { records, level } = await this.#o.find(
          req.kind,
          req.name,
          req.only ? scope : req.level,
          scope,
          req.limit ?? 5,
          req.fresh === true,
        );
        return {
          recs: records.slice(0, MAX_REPLY_RECORDS).map(encodeProviderRecord),
          level: level < 0 ? undefined : level,
        };
      }
    }
  }

  #member(level: number): void {
    if (!this.#o.member(level)) {
      throw new MaculaError("E_FORBIDDEN", `this node is not a bridge into level ${level}`);
    }
  }
}
