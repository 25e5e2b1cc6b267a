/**
 * `WebRtcService` ("webrtc"): the mesh side of the WebRTC link. It answers
 * `/macula/webrtc/1` signaling streams (offers from peers, over whatever
 * connection joins us: direct, or relayed through gateways) by handing
 * them to the `WebRtcTransport`, and gives the transport its way to signal:
 * a stream of that protocol on the node's connection to the peer (the open
 * one, else `host.connect(peer)`). No signaling server.
 *
 * Bounds: the transport's pending negotiations (refused with `busy` over
 * the limit), candidates per negotiation, a deadline on each; every
 * failure is counted (`macula_webrtc_failures_total{code}`), every
 * connection too (`macula_webrtc_connections_total{direction}`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Counter } from "../metrics/registry.ts";
import type { NodeService, ServiceHost } from "../node/service.ts";
import { type ServiceKey, serviceKey } from "../node/service.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { DialError } from "../transport/errors.ts";
import { decodeSignal, encodeSignal, MAX_SIGNAL_FRAME, WEBRTC_PROTOCOL } from "../transport/webrtc-messages.ts";
import { type SignalChannel, webrtcAddress, type WebRtcTransport } from "../transport/webrtc.ts";

/** The service's key (for `needs` and `node.service`). */
export const WEBRTC: ServiceKey<WebRtcService> = serviceKey("webrtc");

/**
 * A signaling channel over `stream`: one CBOR frame per message, checked
 * by `decodeSignal` (bad input rejects with `WireError`).
 *
 * @example
 * ```ts
 * import { streamChannel } from "./webrtc-service.ts";
 * declare const stream: import("../transport/connection.ts").Stream;
 * await streamChannel(stream).send({ t: "end" });
 * ```
 */
export function streamChannel(stream: Stream): SignalChannel {
  return {
    send: (m) => stream.writeFrame(encodeSignal(m), MAX_SIGNAL_FRAME),
    async receive() {
      const frame = await stream.readFrame(MAX_SIGNAL_FRAME, "webrtc signal");
      return frame === null ? null : decodeSignal(frame);
    },
    close: () => stream.reset("signaling done"),
  };
}

/**
 * The WebRTC signaling service.
 *
 * @example
 * ```ts
 * import { WebRtcService } from "./webrtc-service.ts";
 * import { WebRtcTransport } from "../transport/webrtc.ts";
 * declare const RTCPeerConnection: import("../transport/webrtc-channel.ts").RtcPeerConnectionClass;
 * const transport = new WebRtcTransport({ RTCPeerConnection });
 * const service = new WebRtcService(transport); // give both to Node.start
 * ```
 */
export class WebRtcService implements NodeService {
  readonly name = "webrtc";
  #host?: ServiceHost;
  #off?: () => void;
  #listeners = new Set<(connection: Connection) => void>();
  #connections?: Counter;
  #failures?: Counter;

  /** The service of `transport` (which must be among the node's transports). */
  constructor(readonly transport: WebRtcTransport) {}

  start(host: ServiceHost): void {
    this.#host = host;
    this.#connections = host.metrics.counter(
      "macula_webrtc_connections_total",
      "WebRTC connections established, by direction.",
    );
    this.#failures = host.metrics.counter("macula_webrtc_failures_total", "WebRTC negotiations that failed, by code.");
    this.#off = host.handle(WEBRTC_PROTOCOL, (stream) => this.#answer(stream));
    this.transport.setSignaler((peer, signal) => this.#open(peer, signal));
    this.transport.observe({
      connection: (conn) => {
        this.#connections?.inc({ direction: conn.direction });
        for (const listener of this.#listeners) listener(conn);
      },
      failure: (direction, peer, error) => {
        this.#failures?.inc({ code: (error as { code?: string }).code ?? "E_UNKNOWN" });
        host.log.debug("webrtc negotiation failed", { peer: peer.short, direction, error: error.message });
      },
      adopt: (conn) => {
        const current = host.connection(conn.remoteId);
        return !current || current.isClosed || current.relayed || current.transport === "webrtc";
      },
    });
  }

  stop(): void {
    this.#off?.();
    this.transport.setSignaler(undefined);
    this.transport.observe(undefined);
    this.#listeners.clear();
  }

  /**
   * A WebRTC connection to `peer`: the open one, or a new one signaled
   * through the node's connection to it. Rejects as `WebRtcTransport.dial`.
   */
  connect(peer: NodeId, options: { signal?: AbortSignal; timeout?: number } = {}): Promise<Connection> {
    return this.transport.dial(webrtcAddress(peer), peer, options);
  }

  /** The live WebRTC connection to `peer`, if any. */
  connection(peer: NodeId): Connection | undefined {
    return this.transport.connection(peer);
  }

  /** Hear of every new WebRTC connection (either direction); returns the unsubscribe function. */
  onConnection(listener: (connection: Connection) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): Record<string, unknown> {
    const c = this.transport.counts;
    return {
      connected: this.transport.peers().map((id) => id.did),
      outbound: c.outbound,
      inbound: c.inbound,
      failures: { ...c.failures },
    };
  }

  async #open(peer: NodeId, signal: AbortSignal): Promise<SignalChannel> {
    const host = this.#host;
    if (!host) throw new DialError("the webrtc service is not running");
    const existing = host.connection(peer);
    if (!existing || existing.transport === "webrtc") {
      // Without a connection, the peer's record must give another way there (else connecting would wait on this very dial).
      const addrs = host.peer(peer)?.record?.addrs ?? [];
      if (!addrs.some((a) => !a.startsWith("webrtc:"))) {
        throw new DialError(`no signaling path to ${peer.did}: no connection and no known address but WebRTC`);
      }
    }
    const conn = existing && existing.transport !== "webrtc" ? existing : await host.connect(peer, { signal });
    if (conn.transport === "webrtc") throw new DialError(`no signaling path to ${peer.did} other than WebRTC`);
    return streamChannel(await conn.openStream(WEBRTC_PROTOCOL, { signal }));
  }

  async #answer(stream: Stream): Promise<void> {
    try {
      await this.transport.answer(streamChannel(stream), stream.remoteId);
    } catch (error) {
      this.#host?.log.debug("webrtc offer not answered", {
        peer: stream.remoteId.short,
        error: (error as Error).message,
      });
    }
  }
}
