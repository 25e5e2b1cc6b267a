/**
 * A subscriber locator: where pub/sub announces subscriptions besides the
 * realm's flat DHT, and finds every subscriber within a scope. The
 * hierarchical DHT plugs in here (`subscriberLocator` in
 * src/hierarchy/locators.ts), so that `publish` takes a `scope`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { patternsOf } from "./directory.ts";
import { matches, rootOf } from "./topic.ts";

/**
 * Announces subscription roots and finds their subscribers in one realm.
 *
 * @example
 * ```ts
 * import type { SubscriberLocator } from "./locator.ts";
 * declare const locator: SubscriberLocator;
 * await locator.announce("sensors", ["sensors.*.temp"]);
 * const found = await locator.find("sensors", "be");
 * ```
 */
export interface SubscriberLocator {
  /** The realm it serves (other realms use the flat DHT only). */
  readonly realm: string;
  /** Announce this node's `patterns` under `root` (an empty list withdraws it). */
  announce(root: string, patterns: string[]): Promise<unknown>;
  /** Every subscriber under `root` within `scope`, with the data it announced (`{ p: patterns }`). */
  find(root: string, scope: string | number, fresh?: boolean): Promise<Array<{ id: NodeId; data: unknown }>>;
}

/** `locator` if it serves `realm`, else undefined. */
export function subscriberLocatorFor(
  locator: SubscriberLocator | undefined,
  realm: string,
): SubscriberLocator | undefined {
  return locator?.realm === realm ? locator : undefined;
}

/**
 * The subscribers (other than `self`) whose announced patterns match
 * `topic`, found through `locator` within `scope`: the topic's root and `*`
 * are looked up. Rejects what the locator rejects (a `LocalityError` for a
 * scope that is not a level of the node's path).
 *
 * @example
 * ```ts
 * import { scopedSubscribers, type SubscriberLocator } from "./locator.ts";
 * import type { NodeId } from "../identity/node-id.ts";
 * declare const locator: SubscriberLocator;
 * declare const self: NodeId;
 * const ids = await scopedSubscribers(locator, self, "sensors.a.temp", "be");
 * ```
 */
export async function scopedSubscribers(
  locator: SubscriberLocator,
  self: NodeId,
  topic: string,
  scope: string | number,
): Promise<NodeId[]> {
  const roots = [...new Set([rootOf(topic), "*"])];
  const found = await Promise.all(roots.map((root) => locator.find(root, scope)));
  const out = new Map<string, NodeId>();
  for (const { id, data } of found.flat()) {
    if (id.hex !== self.hex && patternsOf(data).some((p) => matches(p, topic))) out.set(id.hex, id);
  }
  return [...out.values()];
}
