/**
 * What every node runs besides its services: the ping and identify
 * protocols, connection events forwarded as node events, the identify and
 * ping of each new peer, and the gauges of the node core.
 *
 * @module
 */
import type { NodeRecord } from "../identity/node-record.ts";
import type { Logger } from "../log/logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Connection } from "../transport/connection.ts";
import type { ConnectionManager } from "./connection-manager.ts";
import { handleIdentify, identify, IDENTIFY_PROTOCOL, type IdentifyAnswer, newSession } from "./identify.ts";
import { ProtocolRefusedError } from "../transport/errors.ts";
import type { PeerStore } from "./peer-store.ts";
import { handlePing, ping, PING_PROTOCOL } from "./ping.ts";
import type { ProtocolRegistry } from "./protocol-registry.ts";
import type { NodeEvents } from "./service.ts";

/** The parts of a node the core protocols use. */
export interface CoreHost {
  /** Connections (their events, and the count for the gauges). */
  manager: ConnectionManager;
  /** Where the ping and identify handlers are registered. */
  registry: ProtocolRegistry;
  /** Where identified records and measured round-trip times go. */
  peerStore: PeerStore;
  /** Where the core gauges are registered. */
  metrics: MetricsRegistry;
  /** Logger of the node. */
  log: Logger;
  /** When the node started, ms since epoch. */
  startedAt: number;
  /** The node's current signed record (the identify answer). */
  record(): NodeRecord;
  /** Emit a node event. */
  emit<K extends keyof NodeEvents>(event: K, ...args: NodeEvents[K]): void;
}

/**
 * Install the core protocols, events and gauges of a node. Each new
 * connection is identified before the connection manager adopts it (the
 * peer's session tells a restart from a duplicate); the answer becomes a
 * `peer:identify` event once the peer is connected.
 *
 * @example
 * ```ts
 * import { installCoreProtocols } from "./core-protocols.ts";
 * declare const host: import("./core-protocols.ts").CoreHost;
 * installCoreProtocols(host);
 * host.manager.start();
 * ```
 */
export function installCoreProtocols(host: CoreHost): void {
  const { manager, registry } = host;
  manager.on("peer:connect", (conn) => host.emit("peer:connect", conn));
  manager.on("peer:disconnect", (id, info) => host.emit("peer:disconnect", id, info));
  registry.handle(PING_PROTOCOL, handlePing);
  const session = newSession();
  registry.handle(IDENTIFY_PROTOCOL, (stream) => handleIdentify(stream, () => host.record(), session));
  const answers = new WeakMap<Connection, IdentifyAnswer>();
  manager.setSessionProbe(async (conn, signal) => {
    try {
      const answer = await identify(conn, signal);
      answers.set(conn, answer);
      learn(host, conn, answer);
      return answer.session;
    } catch (error) {
      if (error instanceof ProtocolRefusedError) return undefined; // an older node: no session
      throw error;
    }
  });
  manager.on("peer:connect", (conn) => greetPeer(host, conn, answers.get(conn)));
  registerCoreGauges(host);
}

/** Keep what identify told: the peer's record and the address it sees us at. */
function learn(host: CoreHost, conn: Connection, { record, transport, observed }: IdentifyAnswer): void {
  host.peerStore.upsertRecord(record);
  host.peerStore.observed.add({ transport, address: observed, by: conn.remoteId, at: Date.now() });
}

/**
 * Greet a new peer: its identify answer (asked for now unless given)
 * becomes a `peer:identify` event, then its round-trip time is measured.
 */
async function greetPeer(host: CoreHost, conn: Connection, known?: IdentifyAnswer): Promise<void> {
  try {
    let answer = known;
    if (!answer) learn(host, conn, answer = await identify(conn));
    const { record, transport, observed } = answer;
    const seen = { transport, address: observed, by: conn.remoteId, at: Date.now() };
    host.emit("peer:identify", record, conn, seen);
    const [rtt] = await ping(conn);
    host.peerStore.setRtt(conn.remoteId, rtt);
  } catch (error) {
    if (!conn.isClosed) {
      host.log.debug("identify/ping of new peer failed", {
        peer: conn.remoteId.short,
        error: (error as Error).message,
      });
    }
  }
}

/** Register the gauges of the node core: peers, connections by transport, known peers, uptime. */
function registerCoreGauges({ metrics, manager, peerStore, startedAt }: CoreHost): void {
  metrics.gauge("macula_peers", "Connected peers.", () => manager.connections().length);
  metrics.gauge("macula_connections", "Open connections by transport.", () => {
    const counts = new Map<string, number>();
    for (const c of manager.connections()) counts.set(c.transport, (counts.get(c.transport) ?? 0) + 1);
    return [...counts].map(([transport, n]) => [{ transport }, n]);
  });
  metrics.gauge("macula_known_peers", "Peers in the peer store.", () => peerStore.size);
  metrics.gauge(
    "macula_uptime_seconds",
    "Seconds since the node started.",
    () => Math.round((Date.now() - startedAt) / 1000),
  );
}
