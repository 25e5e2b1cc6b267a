/**
 * The public types of the hierarchy service: its tunables, the options of a
 * lookup and its outcome.
 *
 * @module
 */
import type { ProviderRecord } from "../dht/records.ts";

/** Tunables of the hierarchy. */
export interface HierarchyOptions {
  /** The node's locality path, e.g. `"eu/be/brussels"` (or its segments). */
  locality: string | readonly string[];
  /** The realm the hierarchy serves. Default: the node's primary realm. */
  realm?: string;
  /** Deadline of the work at one level (a lookup, a bridge request), ms. Default 3 000. */
  levelTimeout?: number;
  /** How long lookup results are cached, ms (never past a record's expiry). Default 60 000. */
  cacheTtl?: number;
  /** Bridges an announcement is handed to, per level. Default 3. */
  bridgesPerLevel?: number;
  /** Re-hand announcements to (live) bridges this often, ms. Default 5 min. */
  republishInterval?: number;
  /** Lifetime of the records handed to bridges, ms. Default 1 hour. */
  recordTtl?: number;
  /**
   * Breadth of the DHT lookup at each level: how many of the closest nodes
   * must answer before a level counts as a miss. Records are stored at the
   * k (20) closest, so a few suffice. Default 5.
   */
  lookupWidth?: number;
}

/** Options of `HierarchyService.findProviders`. */
export interface HierFindOptions {
  /** How far the lookup may escalate: a level number, `"global"`, `"local"` or a path segment. Default global. */
  scope?: string | number;
  /** Providers wanted. Default 5. */
  limit?: number;
  /** Skip the cache. */
  fresh?: boolean;
}

/** Outcome of a hierarchical lookup. */
export interface HierLookup {
  /** The providers' signed records (for the level they announced at). */
  records: ProviderRecord[];
  /** The level that answered (0 = global), or -1 when nothing was found. */
  level: number;
  /** Answered from this node's cache. */
  cached: boolean;
}
