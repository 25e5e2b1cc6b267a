/**
 * The hierarchy as a plug-in of `Node.start`: a `locality` (and `bridge`)
 * adds the level overlays to the node's realms, the bridge roles to its
 * record, and the hierarchy service.
 *
 * @module
 */
import type { NodeService } from "../node/service.ts";
import { DEFAULT_REALM, type NodeOptions as NodeCoreOptions } from "../node/options.ts";
import type { RpcOptions } from "../rpc/rpc.ts";
import type { ContentOptions } from "../content/content-service.ts";
import type { PubSubOptions } from "../pubsub/pubsub.ts";
import { contentLocator, rpcLocator, subscriberLocator } from "./locators.ts";
import { type HierarchyOptions, HierarchyService } from "./hierarchy.ts";
import { LocalityError, memberRealms, parseLocality } from "./locality.ts";

/** The node options of the hierarchy. */
export interface LocalityOptions {
  /**
   * The node's locality path (`"eu/be/brussels"`, 1 to 8 levels, outermost
   * first): the node joins its level's overlay and runs the hierarchy
   * service (`node.hierarchy`). Unset: no hierarchy.
   */
  locality?: string;
  /**
   * Bridge this many levels up (`true` = 1): the node also joins the parent
   * overlays and carries lookups and announcements between the levels.
   */
  bridge?: number | boolean;
  /** Tunables of the hierarchy service. */
  hierarchy?: Omit<HierarchyOptions, "locality" | "realm">;
}

/** The services' options the plug-in sets a locator in. */
type Located = { rpc?: RpcOptions; content?: ContentOptions | false; pubsub?: PubSubOptions };

/**
 * `options` with the level overlays among the realms, the bridge roles
 * among the roles and RPC's provider locator set to the hierarchy, and the
 * hierarchy service to start (none without a locality). Throws `LocalityError` for a bad locality or bridge count.
 *
 * @example
 * ```ts
 * import { hierarchyPlugin } from "./plugin.ts";
 * const { options } = hierarchyPlugin({ locality: "eu/be", bridge: 1 });
 * options.realms; // ["default", "default@eu/be", "default@eu"]
 * ```
 */
export function hierarchyPlugin<T extends NodeCoreOptions & LocalityOptions & Located>(
  options: T,
): { options: T & NodeCoreOptions & Located; services: NodeService[] } {
  if (options.locality === undefined) return { options, services: [] };
  const path = parseLocality(options.locality);
  const bridge = options.bridge === true ? 1 : options.bridge === false ? 0 : options.bridge ?? 0;
  if (!Number.isInteger(bridge) || bridge < 0 || bridge > path.length) {
    throw new LocalityError(`bridge must be 0..${path.length} levels, got ${bridge}`);
  }
  const base = options.realms?.length ? options.realms : [DEFAULT_REALM];
  const levels = memberRealms(base[0], path, bridge);
  const roles = levels.slice(1).map((r) => `bridge:${r}`);
  const service = new HierarchyService({ ...options.hierarchy, locality: path, realm: base[0] });
  return {
    options: {
      ...options,
      realms: [...new Set([...base, ...levels])],
      roles: [...new Set([...(options.roles ?? []), ...roles])],
      // RPC looks providers up (and announces) through the hierarchy first.
      rpc: { ...options.rpc, locator: options.rpc?.locator ?? rpcLocator(service, base[0]) },
      // So do content discovery and pub/sub (a scoped publish gathers subscribers through it).
      content: options.content === false
        ? false
        : { ...options.content, locator: options.content?.locator ?? contentLocator(service, base[0]) },
      pubsub: { ...options.pubsub, locator: options.pubsub?.locator ?? subscriberLocator(service, base[0]) },
    },
    services: [service],
  };
}
