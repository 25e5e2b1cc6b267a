/**
 * The construction work of `Node.start`: resolving the identity, wiring
 * metrics and logging into the protocol registry, the connections and the
 * transports, and the error of a transport that cannot listen.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { loadOrCreateIdentity } from "../identity/key-store.ts";
import { NodeId } from "../identity/node-id.ts";
import type { Logger } from "../log/logger.ts";
import type { Platform } from "../platform/types.ts";
import type { ConnectionOptions } from "../transport/connection.ts";
import type { TransportKind } from "../transport/session.ts";
import type { Transport, TransportContext } from "../transport/transport.ts";
import type { MaculaError } from "../util/errors.ts";
import type { WireError } from "../wire/errors.ts";
import { ConnectionManager } from "./connection-manager.ts";
import { createNodeMetrics, type NodeMetrics } from "./node-metrics.ts";
import { DEFAULT_PORT, ListenError, type NodeOptions } from "./options.ts";
import { PeerStore } from "./peer-store.ts";
import { ProtocolRegistry } from "./protocol-registry.ts";
import { createTransports } from "./transports.ts";

/** The parts a node is made of (see `wireNode`). */
export interface NodeParts {
  /** The node's metrics. */
  metrics: NodeMetrics;
  /** The default-deny protocol registry. */
  registry: ProtocolRegistry;
  /** The transports, not started yet (`Node.start` starts them with `context`). */
  transports: Transport[];
  /** What the transports are started with. */
  context: TransportContext;
  /** What the node knows about other nodes. */
  peerStore: PeerStore;
  /** The connection manager, not started yet. */
  manager: ConnectionManager;
}

/** The identity in the data directory of `options` (created on first use). */
export async function loadKeyPair(options: NodeOptions, platform: Platform, log: Logger): Promise<KeyPair> {
  const loaded = await loadOrCreateIdentity(platform.fs, options.dataDir ?? ".macula");
  if (loaded.created) log.info("created a new identity", { path: loaded.path });
  if (loaded.warning) log.warn(loaded.warning);
  return loaded.keyPair;
}

/**
 * Build the metrics, protocol registry, transports, peer store and
 * connection manager of a node, wired to each other, to the metrics and to
 * `log`. Warns when QUIC is unavailable and nothing else was asked for.
 *
 * @example
 * ```ts
 * import { listenError, loadKeyPair, wireNode } from "./node-wiring.ts";
 * import { Logger } from "../log/logger.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const options = { dataDir: ".macula", port: 0 };
 * const platform = currentPlatform();
 * const log = new Logger();
 * const keyPair = await loadKeyPair(options, platform, log);
 * const { transports, context, manager } = wireNode(options, platform, log, keyPair);
 * for (const t of transports) {
 *   await t.start(context).catch((error) => {
 *     throw listenError(t.kind, options, error);
 *   });
 * }
 * manager.start();
 * ```
 */
export function wireNode(options: NodeOptions, platform: Platform, log: Logger, keyPair: KeyPair): NodeParts {
  const localId = new NodeId(keyPair.publicKey);
  const metrics = createNodeMetrics();
  const registry = new ProtocolRegistry({
    policy: options.authorize,
    onRefused: (protocol, peer, why) => {
      metrics.streamsRefused.inc({ reason: why });
      log.debug("refused stream", { protocol, peer: peer.short, why });
    },
  });
  const ctx: TransportContext = {
    keyPair,
    localId,
    gate: registry.gate,
    connectionOptions: connectionOptions(options, metrics, log),
    onInbound: (conn) => manager.accept(conn),
    dial: (address, expected, dialOptions) => manager.dial(expected, [address], dialOptions),
    onHandshakeError: (error, remote) => {
      metrics.handshakeFailures.inc({ code: (error as MaculaError).code ?? "E_UNKNOWN" });
      log.debug("inbound handshake failed", { remote, error: error.message });
    },
    onHandshakeRefused: (reason, remote, transport) => {
      metrics.handshakesRefused.inc({ transport, reason });
      log.debug("inbound handshake refused", { remote, transport, reason });
    },
  };
  const transports = createTransports(options, platform);
  if (!options.transports && !options.memory && !platform.quic) {
    log.warn(
      platform.runtime === "deno"
        ? "QUIC is unavailable (Deno needs --unstable-net); using TCP only"
        : `QUIC is not available on ${platform.runtimeVersion}; using TCP only`,
    );
  }
  const peerStore = new PeerStore({ isPinned: (id) => manager.isProtected(id) || !!manager.get(id) });
  const manager: ConnectionManager = new ConnectionManager({
    localId,
    transports,
    peerStore,
    log,
    metrics,
    limits: options.limits,
  });
  return { metrics, registry, transports, context: ctx, peerStore, manager };
}

/** Options of every connection: the stream limit, and protocol violations and handler errors counted and logged. */
function connectionOptions(options: NodeOptions, metrics: NodeMetrics, log: Logger): ConnectionOptions {
  return {
    maxInboundStreams: options.limits?.maxStreamsPerConnection ?? 1024,
    onProtocolViolation: (conn, error) => {
      metrics.protocolViolations.inc();
      metrics.wireErrors.inc({ type: (error as WireError).messageType ?? "unknown" });
      log.warn("peer violated the wire protocol; disconnecting", { peer: conn.remoteId.short, error: error.message });
    },
    onHandlerError: (conn, protocol, error) => {
      metrics.handlerErrors.inc({ protocol });
      log.warn("stream handler failed", {
        peer: conn.remoteId.short,
        protocol,
        error: (error as Error)?.message ?? String(error),
      });
    },
  };
}

/** The error of a transport of `kind` that cannot listen. */
export function listenError(kind: TransportKind, options: NodeOptions, error: unknown): ListenError {
  return new ListenError(
    `cannot listen for ${kind} on ${options.host ?? "0.0.0.0"}:${options.port ?? DEFAULT_PORT}: ${
      (error as Error).message
    }`,
    { cause: error },
  );
}
