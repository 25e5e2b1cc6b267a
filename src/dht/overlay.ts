/**
 * The DHT state of one realm (an overlay): its routing table and the
 * records it holds. Shared by the DHT service, its request server and its
 * lookup driver.
 *
 * @module
 */
import type { RecordStore } from "./record-store.ts";
import type { RoutingTable } from "./routing-table.ts";

/**
 * The overlay of one realm.
 *
 * @example
 * ```ts
 * import type { Overlay } from "./overlay.ts";
 * declare const overlay: Overlay;
 * console.log(overlay.name, overlay.table.size, overlay.store.stats());
 * ```
 */
export interface Overlay {
  /** The realm. */
  name: string;
  /** Contacts that run in the realm. */
  table: RoutingTable;
  /** Provider and value records held for the realm. */
  store: RecordStore;
  /** Whether the join lookup ran (once, when the first contact arrived). */
  bootstrapped: boolean;
}
