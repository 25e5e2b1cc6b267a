/**
 * The hierarchy as RPC's, content's and pub/sub's locator: RPC and content
 * providers are announced level by level and found nearest first;
 * subscriptions are announced with their patterns, and a scoped publish
 * gathers every subscriber within the scope (`findWithin`), not just the
 * nearest.
 *
 * @module
 */
import type { ContentLocator } from "../content/locator.ts";
import type { ProviderLocator } from "../rpc/locator.ts";
import type { SubscriberLocator } from "../pubsub/locator.ts";
import type { HierarchyService } from "./hierarchy.ts";

/**
 * RPC's view of `hier` (`RpcOptions.locator`, wired by the `Node.start`
 * plug-in for `realm`): `call`/`advertise` with a `scope` go through it.
 *
 * @example
 * ```ts
 * import { rpcLocator } from "./locators.ts";
 * import type { HierarchyService } from "./hierarchy.ts";
 * declare const hier: HierarchyService;
 * const ids = await rpcLocator(hier, "default").find("sensor.read", "be");
 * ```
 */
export function rpcLocator(hier: HierarchyService, realm: string): ProviderLocator {
  return {
    realm,
    find: async (procedure, scope, fresh) =>
      (await hier.findProviders("rpc", procedure, { scope, limit: 8, fresh })).records.map((r) => r.provider.id),
    announce: (procedure, scope) => hier.provide("rpc", procedure, { scope }),
    withdraw: (procedure) => hier.unprovide("rpc", procedure),
  };
}

/**
 * Content's view of `hier` (`ContentOptions.locator`, wired by the
 * `Node.start` plug-in for `realm`).
 *
 * @example
 * ```ts
 * import { contentLocator } from "./locators.ts";
 * import type { HierarchyService } from "./hierarchy.ts";
 * declare const hier: HierarchyService;
 * const ids = await contentLocator(hier, "default").find("mcid…", "be");
 * ```
 */
export function contentLocator(hier: HierarchyService, realm: string): ContentLocator {
  return {
    realm,
    find: async (mcid, scope, fresh) =>
      (await hier.findProviders("content", mcid, { scope, limit: 8, fresh })).records.map((r) => r.provider.id),
    announce: (mcid, scope) => hier.provide("content", mcid, { scope }),
    withdraw: (mcid) => hier.unprovide("content", mcid),
  };
}

/**
 * Pub/sub's view of `hier` (`PubSubOptions.locator`, wired by the
 * `Node.start` plug-in for `realm`): a root's patterns travel as the data
 * of its provider record, announced as far as the hierarchy goes.
 *
 * @example
 * ```ts
 * import { subscriberLocator } from "./locators.ts";
 * import type { HierarchyService } from "./hierarchy.ts";
 * declare const hier: HierarchyService;
 * const found = await subscriberLocator(hier, "default").find("sensors", "be");
 * ```
 */
export function subscriberLocator(hier: HierarchyService, realm: string): SubscriberLocator {
  return {
    realm,
    announce: async (root, patterns) => {
      if (patterns.length === 0) return hier.unprovide("sub", root);
      return await hier.provide("sub", root, { data: { p: patterns } });
    },
    find: async (root, scope, fresh) =>
      (await hier.findWithin("sub", root, { scope, fresh })).records.map((r) => ({ id: r.provider.id, data: r.data })),
  };
}
