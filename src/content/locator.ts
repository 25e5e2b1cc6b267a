/**
 * A content locator: where content discovery finds and announces providers
 * besides the realm's flat DHT. The hierarchical DHT plugs in here
 * (`contentLocator` in src/hierarchy/locators.ts), so that `fetch` and
 * `publish` take a `scope`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Mcid } from "./mcid.ts";

/**
 * Finds and announces the providers of content in one realm.
 *
 * @example
 * ```ts
 * import type { ContentLocator } from "./locator.ts";
 * declare const locator: ContentLocator;
 * const ids = await locator.find("mcid…", "be");
 * ```
 */
export interface ContentLocator {
  /** The realm it serves (other realms use the flat DHT only). */
  readonly realm: string;
  /** Providers of the MCID (text form) within `scope` (undefined: as far as it goes); `fresh` skips caches. */
  find(mcid: string, scope: string | number | undefined, fresh?: boolean): Promise<NodeId[]>;
  /** Announce this node as a provider of the MCID up to `scope`. */
  announce(mcid: string, scope: string | number | undefined): Promise<unknown>;
  /** Stop announcing the MCID. */
  withdraw(mcid: string): void;
}

/** `locator` if it serves `realm`, else undefined. */
export function locatorFor(locator: ContentLocator | undefined, realm: string): ContentLocator | undefined {
  return locator?.realm === realm ? locator : undefined;
}

/**
 * Announce `mcid` through the locator (when it serves `realm`); says
 * whether the flat DHT must be told too (no locator, or no scope given).
 */
export function announceNear(
  locator: ContentLocator | undefined,
  realm: string,
  mcid: Mcid,
  scope: string | number | undefined,
  onError: (error: unknown) => void,
): boolean {
  const near = locatorFor(locator, realm);
  near?.announce(mcid.toString(), scope).catch(onError);
  return !near || scope === undefined;
}
