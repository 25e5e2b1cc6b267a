/**
 * Finding the bridges of a level: every bridge provides the level's bridge
 * key in the level's overlay; members look it up (cached for a while) and
 * try the bridges closest to the level key first. A bridge that fails is
 * dropped; when none is left the list is looked up again.
 *
 * @module
 */
import type { DhtService } from "../dht/dht.ts";
import { realmKey, sortByDistance } from "../dht/keys.ts";
import { dhtId } from "../dht/keys.ts";
import type { NodeId } from "../identity/node-id.ts";

/** What `Bridges` needs. */
export interface BridgesOptions {
  /** The DHT the level overlays live in. */
  dht: DhtService;
  /** This node (never its own bridge). */
  self: NodeId;
  /** The overlay of a level. */
  realmOf: (level: number) => string;
  /** Deadline of a bridge lookup, ms. */
  timeout: number;
  /** How long a bridge list is reused, ms. */
  ttl: number;
}

/**
 * The bridges of each level, as this node knows them.
 *
 * @example
 * ```ts
 * import { Bridges } from "./bridges.ts";
 * declare const options: import("./bridges.ts").BridgesOptions;
 * const bridges = new Bridges(options);
 * const ids = await bridges.of(3); // bridges from level 3 to level 2
 * ```
 */
export class Bridges {
  #o: BridgesOptions;
  #lists = new Map<number, { ids: NodeId[]; expires: number }>();

  /** Bridges found through `options.dht`. */
  constructor(options: BridgesOptions) {
    this.#o = options;
  }

  /** The DHT key bridges of `level` provide in its overlay. */
  key(level: number): Uint8Array {
    return realmKey(this.#o.realmOf(level), "raw", "macula/hier/bridge");
  }

  /** Live bridges from `level` to its parent, closest to the level key first. */
  async of(level: number): Promise<NodeId[]> {
    const cached = this.#lists.get(level);
    if (cached && cached.ids.length > 0 && cached.expires > Date.now()) return [...cached.ids];
    const key = this.key(level);
    const found = await this.#o.dht.findProviders(this.#o.realmOf(level), key, {
      limit: 64,
      signal: AbortSignal.timeout(this.#o.timeout),
    }).catch(() => []);
    const ids = sortByDistance(
      key,
      found.map((r) => r.provider.id).filter((id) => !id.equals(this.#o.self)),
      (id) => dhtId(id),
    );
    this.#lists.set(level, { ids, expires: Date.now() + this.#o.ttl });
    return [...ids];
  }

  /** Forget bridge `id` of `level` (it failed). */
  dead(level: number, id: NodeId): void {
    const list = this.#lists.get(level);
    if (list) list.ids = list.ids.filter((b) => !b.equals(id));
  }
}
