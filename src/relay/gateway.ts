/**
 * The gateway side of the relay: a node serving browsers (peers connected
 * over `ws` or `webrtc`) lets them reserve at it, so others reach them at
 * relayed addresses through it, and lets them open circuits to any node id
 * it can connect to — a browser, which can dial only WebSockets, reaches
 * the whole mesh end-to-end encrypted through its gateway. The relay
 * service (`relay-service.ts`) applies it; these are its rules.
 *
 * @module
 */
import { DHT } from "../dht/dht.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { ServiceHost } from "../node/service.ts";
import type { Connection } from "../transport/connection.ts";
import { withDeadline } from "../util/async.ts";

/** Transports whose peers a gateway serves by default: browsers' links. */
export const GATEWAY_TRANSPORTS: readonly string[] = ["ws", "webrtc"];

/**
 * Is `connection` one a gateway serving `kinds` serves (a direct
 * connection over one of those transports)?
 *
 * @example
 * ```ts
 * import { GATEWAY_TRANSPORTS, isGatewayClient } from "./gateway.ts";
 * declare const conn: import("../transport/connection.ts").Connection;
 * if (isGatewayClient(conn, GATEWAY_TRANSPORTS)) console.log("a browser, probably");
 * ```
 */
export function isGatewayClient(connection: Connection, kinds: readonly string[]): boolean {
  return !connection.relayed && kinds.includes(connection.transport);
}

/**
 * Connect to `target` for a gateway client's circuit: the open connection,
 * a dial to its known addresses, or, when none is known, a DHT lookup of
 * its record in the node's realms first. Rejects when it cannot be reached
 * within `timeout` ms.
 *
 * @example
 * ```ts
 * import { reachForClient } from "./gateway.ts";
 * declare const host: import("../node/service.ts").ServiceHost;
 * declare const target: import("../identity/node-id.ts").NodeId;
 * const conn = await reachForClient(host, target, 10_000);
 * ```
 */
export async function reachForClient(host: ServiceHost, target: NodeId, timeout: number): Promise<Connection> {
  const open = host.connection(target);
  if (open) return open;
  const signal = AbortSignal.timeout(timeout);
  try {
    return await host.connect(target, { signal });
  } catch (first) {
    let dht;
    try {
      dht = host.use(DHT);
    } catch {
      throw first;
    }
    for (const realm of host.realms) {
      const record = await withDeadline(dht.findNode(realm, target, signal), timeout, "gateway lookup").catch(
        () => undefined,
      );
      if (record) {
        host.learn(record);
        return await host.connect(target, { signal });
      }
    }
    throw first;
  }
}

/**
 * A gateway's clients are its members: report a client's first connection
 * as `peer:up` and the close of its last one as `peer:down`, the events
 * membership services (SWIM on a LAN) report for nodes. Browsers are not
 * cluster members; their gateway is what knows they are there. Returns the
 * function that stops reporting.
 *
 * @example
 * ```ts
 * import { GATEWAY_TRANSPORTS, reportGatewayMembership } from "./gateway.ts";
 * declare const host: import("../node/service.ts").ServiceHost;
 * const stop = reportGatewayMembership(host, GATEWAY_TRANSPORTS);
 * stop();
 * ```
 */
export function reportGatewayMembership(host: ServiceHost, kinds: readonly string[]): () => void {
  const clients = new Set<string>();
  const offConnect = host.on("peer:connect", (connection) => {
    if (!isGatewayClient(connection, kinds) || clients.has(connection.remoteId.did)) return;
    clients.add(connection.remoteId.did);
    host.log.info("gateway client up", { peer: connection.remoteId.short, transport: connection.transport });
    host.emit("peer:up", connection.remoteId);
  });
  const offDisconnect = host.on("peer:disconnect", (id) => {
    if (!clients.delete(id.did)) return;
    host.log.info("gateway client down", { peer: id.short });
    host.emit("peer:down", id);
  });
  return () => {
    offConnect();
    offDisconnect();
  };
}
