/**
 * Builds the relay plug-ins of a node from its `relay` option: the relay
 * transport and client (every node, so that it can dial relayed addresses
 * and reserve at relays), plus the relay server when it serves (`serve`),
 * which also announces the `relay` role.
 *
 * @module
 */
import type { NodeService } from "../node/service.ts";
import type { Transport } from "../transport/transport.ts";
import type { RelayLimits } from "./limits.ts";
import { RelayClient } from "./relay-client.ts";
import { RELAY_ROLE, RelayService } from "./relay-service.ts";
import { RelayTransport } from "./relay-transport.ts";

/** The `relay` option of `Node.start`. */
export interface RelayOptions {
  /** Serve as a relay for other nodes (announces the `relay` role). Default false. */
  serve?: boolean;
  /** Who may reserve when serving: `"*"`, a list of realms, or (default) the node's realms. */
  realms?: "*" | string[];
  /** Relays to keep peered with when serving (direct addresses with `did:key`). */
  peers?: string[];
  /** Relays to reserve at (direct addresses with `did:key`). */
  via?: string[];
  /** Relays found automatically to reserve at. Default 2 (0 when serving). */
  autoReserve?: number;
  /** Operator limits when serving. */
  limits?: RelayLimits;
  /** Whether automatic reservations are needed now (`Node` passes "not known to be public"). Default: always. */
  needsRelay?: () => boolean;
}

/** What `relayPlugins` builds. */
export interface RelayPlugins {
  /** The relay transport (dials relayed addresses). */
  transport: RelayTransport;
  /** The client, and the server when serving. */
  services: NodeService[];
  /** Roles to announce (`relay` when serving). */
  roles: string[];
}

/**
 * The relay plug-ins for `options` (`false`: none). Reuses a
 * `RelayTransport` found in `transports`.
 *
 * @example
 * ```ts
 * import { relayPlugins } from "./plugin.ts";
 * const plugins = relayPlugins({ serve: true, realms: "*" });
 * plugins?.services.map((s) => s.name); // ["relay", "relay-client"]
 * ```
 */
export function relayPlugins(
  options: RelayOptions | false | undefined,
  transports: ReadonlyArray<string | Transport> = [],
): RelayPlugins | undefined {
  if (options === false) return undefined;
  const o = options ?? {};
  const given = transports.find((t): t is RelayTransport => t instanceof RelayTransport);
  if (!given && transports.some((t) => typeof t === "object" && t.kind === "relay")) return undefined;
  const transport = given ?? new RelayTransport();
  const services: NodeService[] = [];
  if (o.serve) {
    services.push(
      new RelayService({
        ...o.limits,
        realms: o.realms,
        peers: o.peers,
        dial: (address) => transport.reach(address),
      }),
    );
  }
  services.push(
    new RelayClient(transport, {
      via: o.via,
      autoReserve: o.autoReserve ?? (o.serve ? 0 : 2),
      needsRelay: o.needsRelay,
    }),
  );
  return { transport, services, roles: o.serve ? [RELAY_ROLE] : [] };
}
