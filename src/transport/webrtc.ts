/**
 * The WebRTC link (kind `"webrtc"`): one ordered reliable data channel per
 * connection carrying the same Noise XX + mux session as TCP, pinned to the
 * peer id (the Noise handshake must prove the id the signaling path named;
 * a wrong id is a `PeerIdMismatchError`). Only the W3C API is used: the
 * `RTCPeerConnection` class is injected (a browser's global, or
 * `npm:node-datachannel/polyfill` on a node, see `platform/webrtc.ts`).
 *
 * There is no signaling server: offers, answers and candidates travel over
 * a stream on whatever connection already joins the two peers. The link
 * gets that stream from a `Signaler` (the `webrtc` service,
 * `webrtc/webrtc-service.ts`, sets one that opens `/macula/webrtc/1` on the
 * node's connection to the peer) and answers offers handed to `answer`.
 *
 * Addresses: `webrtc://p2p/did:key:…`. The link announces none (a WebRTC
 * peer is reached by id, through the mesh); `canDial` takes any `webrtc`
 * address naming an id, and `dial` signals through the node's connection
 * to that id. Every connection the link makes or accepts is also handed to
 * the node (`onInbound`), like a punched QUIC connection, so that a direct
 * WebRTC connection replaces a relayed one for all traffic — unless the
 * observer's `adopt` says no (the node already has a direct connection to
 * the peer): then it serves whoever holds it (rings) and closes with the
 * link.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { TimeoutError } from "../util/async.ts";
import { MaculaError } from "../util/errors.ts";
import { formatAddress, type PeerAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { ConnectionSet } from "./connection-set.ts";
import { DialError, LimitError } from "./errors.ts";
import { MemoryBudget } from "./mux/receive-budget.ts";
import { secureSession } from "./secure-session.ts";
import type { DialOptions, Transport, TransportContext } from "./transport.ts";
import { channelDuplex, type RtcPeerConnection, type RtcPeerConnectionClass } from "./webrtc-channel.ts";
import { negotiate, type SignalChannel } from "./webrtc-negotiate.ts";

export type { SignalChannel } from "./webrtc-negotiate.ts";

/** Opens a signaling channel to `peer` (over the node's connection to it). */
export type Signaler = (peer: NodeId, signal: AbortSignal) => Promise<SignalChannel>;

/** Hears of the link's outcomes (the `webrtc` service counts them and tells the rings). */
export interface WebRtcObserver {
  /** A connection was established (either direction). */
  connection?(connection: Connection): void;
  /** A negotiation failed. */
  failure?(direction: "inbound" | "outbound", peer: NodeId, error: Error): void;
  /**
   * Whether to hand `connection` to the node (default yes). The `webrtc`
   * service says no when the node already holds a direct connection to the
   * peer: the node's tie-break between two direct connections could retire
   * the WebRTC one, which rings need; it then serves its users only.
   */
  adopt?(connection: Connection): boolean;
}

/** The host part of every WebRTC address. */
export const WEBRTC_HOST = "p2p";

/** Options of `WebRtcTransport`. */
export interface WebRtcOptions {
  /** The `RTCPeerConnection` class (browser global, or node-datachannel's polyfill). */
  RTCPeerConnection: RtcPeerConnectionClass;
  /** STUN/TURN servers. Default none: host candidates only (same machine or LAN). */
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  /** Deadline of signaling + ICE + Noise, ms. Default 15 000. */
  timeout?: number;
  /** Negotiations in progress at once (both directions); more are refused. Default 16. */
  maxPending?: number;
  /** Remote ICE candidates taken per negotiation. Default 32. */
  maxCandidates?: number;
  /** Keep-alive ping interval, ms. Default 1 000. */
  keepAlive?: number;
  /** Called once when the link closes (node-datachannel: release its threads). */
  onClose?: () => void;
}

/** Counts of the link, for status and metrics. */
export interface WebRtcCounts {
  /** Connections established, per direction. */
  outbound: number;
  /** Connections accepted. */
  inbound: number;
  /** Negotiations that failed, by error code. */
  failures: Record<string, number>;
}

/** The address `webrtc://p2p/<did>` of `id`. */
export function webrtcAddress(id: NodeId): PeerAddress {
  return { type: "direct", kind: "webrtc", host: WEBRTC_HOST, port: 0, id };
}

/**
 * The WebRTC transport.
 *
 * @example
 * ```ts
 * import { WebRtcTransport } from "./webrtc.ts";
 * declare const RTCPeerConnection: import("./webrtc-channel.ts").RtcPeerConnectionClass;
 * const rtc = new WebRtcTransport({ RTCPeerConnection });
 * rtc.canDial({ type: "direct", kind: "webrtc", host: "p2p", port: 0 }); // true
 * ```
 */
export class WebRtcTransport implements Transport {
  readonly kind = "webrtc";
  readonly listenAddresses: PeerAddress[] = [];
  #opts: Required<Omit<WebRtcOptions, "onClose" | "iceServers">> & Pick<WebRtcOptions, "onClose" | "iceServers">;
  #ctx: TransportContext | null = null;
  #connections: ConnectionSet | null = null;
  #signaler?: Signaler;
  #observer?: WebRtcObserver;
  #pending = 0;
  #byPeer = new Map<string, Connection>();
  #dialing = new Map<string, Promise<Connection>>();
  #memory = new MemoryBudget();
  #pcs = new Set<RtcPeerConnection>();
  #closed = false;
  #closing = new AbortController();
  /** Connections made and negotiations failed so far. */
  readonly counts: WebRtcCounts = { outbound: 0, inbound: 0, failures: {} };

  /** A WebRTC link on the given `RTCPeerConnection` class. */
  constructor(options: WebRtcOptions) {
    this.#opts = { timeout: 15_000, maxPending: 16, maxCandidates: 32, keepAlive: 1_000, ...options };
  }

  /** Set (or clear) who hears of new connections and failed negotiations. */
  observe(observer: WebRtcObserver | undefined): void {
    this.#observer = observer;
  }

  /** Set (or clear) how signaling channels to peers are opened. */
  setSignaler(signaler: Signaler | undefined): void {
    this.#signaler = signaler;
  }

  /** The live WebRTC connection to `peer`, if any. */
  connection(peer: NodeId): Connection | undefined {
    const c = this.#byPeer.get(peer.hex);
    return c && !c.isClosed ? c : undefined;
  }

  /** Peers with a live WebRTC connection. */
  peers(): NodeId[] {
    return [...this.#byPeer.values()].filter((c) => !c.isClosed).map((c) => c.remoteId);
  }

  start(ctx: TransportContext): Promise<void> {
    if (this.#ctx && this.#ctx !== ctx) {
      return Promise.reject(new Error("WebRTC transport already started by another node"));
    }
    this.#ctx = ctx;
    this.#connections ??= new ConnectionSet(ctx);
    return Promise.resolve();
  }

  canDial(address: PeerAddress): boolean {
    return address.type === "direct" && address.kind === "webrtc";
  }

  /**
   * Connect to `expected` over WebRTC, signaling through the node's
   * connection to it. Rejects with `DialError` (no signaling path, the peer
   * declined, ICE failed), `PeerIdMismatchError`, `TimeoutError`,
   * `LimitError` (too many negotiations) or `WireError` (bad signaling).
   */
  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    if (!this.canDial(address) || (address.type === "direct" && address.id && !address.id.equals(expected))) {
      throw new DialError(`the WebRTC transport cannot dial ${formatAddress(address)} as ${expected.did}`);
    }
    const open = this.connection(expected);
    if (open) return open;
    const { ctx } = this.#started();
    if (!this.#signaler) throw new DialError(`no signaling path to ${expected.did}: the webrtc service is not running`);
    // One negotiation per peer at a time: a second dial waits for the first.
    const inFlight = this.#dialing.get(expected.hex);
    if (inFlight) return await inFlight;
    const signal = this.#deadline(options.timeout, options.signal);
    const dialing = this.#run("outbound", expected, async () => {
      const channel = await this.#signaler!(expected, signal);
      return await this.#establish(channel, true, expected, signal, ctx);
    }).finally(() => this.#dialing.delete(expected.hex));
    this.#dialing.set(expected.hex, dialing);
    return await dialing;
  }

  /**
   * Answer an offer arriving on `channel` from `remote` (proven by the
   * connection the channel runs on). Resolves with the new connection
   * (also handed to the node); rejects as `dial` does.
   */
  async answer(channel: SignalChannel, remote: NodeId): Promise<Connection> {
    const { ctx } = this.#started();
    if (this.#pending >= this.#opts.maxPending) {
      await channel.send({ t: "err", reason: "busy" }).catch(() => {});
      channel.close();
      this.#fail("E_LIMIT");
      throw new LimitError(`over ${this.#opts.maxPending} WebRTC negotiations in progress`);
    }
    const signal = this.#deadline(undefined, undefined);
    return await this.#run("inbound", remote, () => this.#establish(channel, false, remote, signal, ctx));
  }

  #started(): { ctx: TransportContext; connections: ConnectionSet } {
    if (!this.#ctx || !this.#connections || this.#closed) throw new DialError("WebRTC transport is not started");
    return { ctx: this.#ctx, connections: this.#connections };
  }

  #deadline(timeout: number | undefined, signal: AbortSignal | undefined): AbortSignal {
    const signals = [AbortSignal.timeout(timeout ?? this.#opts.timeout), this.#closing.signal];
    if (signal) signals.push(signal);
    return AbortSignal.any(signals);
  }

  #fail(code: string): void {
    this.counts.failures[code] = (this.counts.failures[code] ?? 0) + 1;
  }

  async #run(direction: "inbound" | "outbound", peer: NodeId, body: () => Promise<Connection>): Promise<Connection> {
    if (direction === "outbound" && this.#pending >= this.#opts.maxPending) {
      this.#fail("E_LIMIT");
      throw new LimitError(`over ${this.#opts.maxPending} WebRTC negotiations in progress`);
    }
    this.#pending++;
    try {
      const conn = await body();
      this.counts[direction]++;
      this.#observer?.connection?.(conn);
      return conn;
    } catch (caught) {
      const error = (caught as Error)?.name === "TimeoutError" && !(caught instanceof MaculaError)
        ? new TimeoutError(`WebRTC connection with ${peer.did} timed out`)
        : caught as Error;
      this.#fail((error as MaculaError)?.code ?? "E_DIAL");
      this.#observer?.failure?.(direction, peer, error);
      if (error instanceof MaculaError) throw error;
      throw new DialError(`WebRTC connection with ${peer.did} failed: ${error?.message ?? error}`, {
        cause: error,
      });
    } finally {
      this.#pending--;
    }
  }

  async #establish(
    channel: SignalChannel,
    offer: boolean,
    peer: NodeId,
    signal: AbortSignal,
    ctx: TransportContext,
  ): Promise<Connection> {
    let pc;
    try {
      const negotiated = await negotiate(channel, offer, {
        RTCPeerConnection: this.#opts.RTCPeerConnection,
        iceServers: this.#opts.iceServers,
        maxCandidates: this.#opts.maxCandidates,
        signal,
        created: (made) => {
          this.#pcs.add(made);
          made.addEventListener("connectionstatechange", () => {
            if (made.connectionState === "closed") this.#pcs.delete(made);
          });
        },
      });
      pc = negotiated.pc;
      const pipe = channelDuplex(negotiated.dc, negotiated.pc);
      const session = await secureSession(pipe, {
        role: offer ? "initiator" : "responder",
        keyPair: ctx.keyPair,
        expected: peer,
        kind: "webrtc",
        remoteAddress: `${WEBRTC_HOST}/${peer.short}`,
        handshakeTimeout: this.#opts.timeout,
        keepAlive: this.#opts.keepAlive,
        memory: this.#memory,
      });
      const conn = this.#started().connections.wrap(session);
      this.#byPeer.set(peer.hex, conn);
      conn.closed.then(() => {
        if (this.#byPeer.get(peer.hex) === conn) this.#byPeer.delete(peer.hex);
      });
      if (this.#observer?.adopt?.(conn) ?? true) ctx.onInbound(conn);
      return conn;
    } catch (error) {
      try {
        pc?.close();
      } catch { /* closed */ }
      throw error;
    } finally {
      channel.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new DialError("WebRTC transport closed"));
    this.#connections?.closeAll("shutting down");
    this.#byPeer.clear();
    // Every peer connection closed, and its last callbacks run, before the
    // implementation may be released (node-datachannel crashes otherwise).
    for (const pc of this.#pcs) {
      try {
        pc.close();
      } catch { /* closed */ }
    }
    this.#pcs.clear();
    await new Promise((resolve) => setTimeout(resolve, 100));
    this.#opts.onClose?.();
  }
}
