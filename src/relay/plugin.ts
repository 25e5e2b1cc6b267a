/**
 * Builds the relay plug-ins of a node from its `relay` option: the relay
 * transport and client (every node, so that it can dial relayed addresses
 * and reserve at relays), plus the relay server when it serves (`serve`),
 * which also announces the `relay` role; a gateway serving browsers
 * (`serveGateway`, without the role), and the dial-through-a-gateway
 * transport of a node that can dial only WebSockets (`gateway`).
 *
 * @module
 */
import type { NodeService } from "../node/service.ts";
import type { Transport } from "../transport/transport.ts";
import type { RelayLimits } from "./limits.ts";
import { RelayClient } from "./relay-client.ts";
import { RELAY_ROLE, RelayService } from "./relay-service.ts";
import { RelayTransport } from "./relay-transport.ts";
import { GATEWAY_TRANSPORTS } from "./gateway.ts";
import { GatewayTransport } from "./gateway-transport.ts";
import { parseAddress } from "../transport/address.ts";

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
  /**
   * Serve peers connected over these transports (`true`: `ws` and `webrtc`)
   * as their gateway: they may reserve here and open circuits to any node
   * this node can connect to (see `gateway.ts`). Without `serve`, nothing
   * else is served and no role is announced. Default false.
   */
  serveGateway?: boolean | readonly string[];
  /**
   * Our gateway (a direct address with its `did:key`, e.g. `ws://HOST:PORT/did:key:…`):
   * reserve at it, and reach every address no other transport can dial
   * through it (`GatewayTransport`). For nodes that can dial only WebSockets;
   * `Node.start` defaults it to the first `ws://`/`wss://` seed of a node whose
   * links are all `ws`/`webrtc`. No automatic reservations elsewhere then.
   */
  gateway?: string;
}

/** What `relayPlugins` builds. */
export interface RelayPlugins {
  /** The relay transport (dials relayed addresses). */
  transport: RelayTransport;
  /** The gateway transport, with a `gateway` (add it after the node's other transports). */
  gatewayTransport?: GatewayTransport;
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
  const gatewayKinds = o.serveGateway === true ? GATEWAY_TRANSPORTS : o.serveGateway || [];
  if (o.serve || gatewayKinds.length > 0) {
    services.push(
      new RelayService({
        ...o.limits,
        realms: o.realms,
        peers: o.serve ? o.peers : undefined,
        discoverPeers: o.serve ? undefined : false,
        dial: (address) => transport.reach(address),
        gateway: gatewayKinds,
        gatewayOnly: !o.serve,
      }),
    );
  }
  let gatewayTransport: GatewayTransport | undefined;
  if (o.gateway) {
    const addr = parseAddress(o.gateway, { requireId: true });
    if (addr.type !== "direct") throw new TypeError(`gateway ${o.gateway} must be a direct address`);
    gatewayTransport = new GatewayTransport(transport, { ...addr, id: addr.id! });
  }
  services.push(
    new RelayClient(transport, {
      via: o.gateway ? [...(o.via ?? []), o.gateway] : o.via,
      autoReserve: o.autoReserve ?? (o.serve || o.gateway ? 0 : 2),
      needsRelay: o.needsRelay,
    }),
  );
  return { transport, gatewayTransport, services, roles: o.serve ? [RELAY_ROLE] : [] };
}
