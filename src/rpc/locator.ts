/**
 * A provider locator: where RPC finds and announces providers besides the
 * realm's flat DHT. The hierarchical DHT plugs in here
 * (`rpcLocator` in src/hierarchy/locators.ts), so that `call` and `advertise` take a
 * `scope`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";

/**
 * Finds and announces the providers of procedures in one realm.
 *
 * @example
 * ```ts
 * import type { ProviderLocator } from "./locator.ts";
 * declare const locator: ProviderLocator;
 * const ids = await locator.find("sensor.read", "be");
 * ```
 */
export interface ProviderLocator {
  /** The realm it serves (other realms use the flat DHT only). */
  readonly realm: string;
  /** Providers of `procedure` within `scope` (undefined: as far as it goes); `fresh` skips caches. */
  find(procedure: string, scope: string | number | undefined, fresh?: boolean): Promise<NodeId[]>;
  /** Announce `procedure` up to `scope`. */
  announce(procedure: string, scope: string | number | undefined): Promise<unknown>;
  /** Stop announcing `procedure`. */
  withdraw(procedure: string): void;
}
