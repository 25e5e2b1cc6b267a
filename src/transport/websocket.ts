/**
 * The WebSocket link (kind `"ws"`): the same Noise XX + stream multiplexer
 * session as TCP (`secure-session.ts`), over WebSocket binary messages.
 * Browsers can dial only this. Addresses are `ws://host:port/did:key:…`
 * (or `wss://…` to dial through TLS); the WebSocket path is `/macula/ws`.
 *
 * Dialing uses the W3C `WebSocket` (global in browsers, Deno and Node ≥ 22;
 * injectable). Accepting is done by an HTTP server: the node's status
 * server mounts `transport.route(http)`, or the transport runs its own
 * server when given `listen` (tests, nodes without a status server).
 * Inbound handshakes pass the same admission limits as TCP
 * (`handshake-gate.ts`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { HttpApi, HttpServer, SocketAddress, WebSocketLike } from "../platform/types.ts";
import { isWebSocketUpgrade } from "../platform/types.ts";
import { AbortedError, TimeoutError, withDeadline } from "../util/async.ts";
import { formatAddress, hostPort, type PeerAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { ConnectionSet } from "./connection-set.ts";
import { DialError } from "./errors.ts";
import {
  DEFAULT_INBOUND_HANDSHAKE_BUDGET,
  DEFAULT_MAX_PENDING_PER_SOURCE,
  HandshakeGate,
  isTimeout,
} from "./handshake-gate.ts";
import { MemoryBudget } from "./mux/receive-budget.ts";
import { secureSession } from "./secure-session.ts";
import type { DialOptions, Transport, TransportContext } from "./transport.ts";
import { webSocketDuplex, type WebSocketDuplexOptions, type WebSocketProtocolError } from "./websocket-duplex.ts";

/** The HTTP path WebSockets of the mesh are served on. */
export const WS_PATH = "/macula/ws";

/** A WebSocket constructor (the W3C one, or a stand-in). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Tunables of the WebSocket link. */
export interface WebSocketTransportOptions {
  /** How to dial; default the global `WebSocket` (dialing fails with `DialError` without one). */
  WebSocket?: WebSocketConstructor;
  /** Run an HTTP server of its own serving `/macula/ws` here (otherwise mount `route()`). */
  listen?: { http: HttpApi; host: string; port: number };
  /** Deadline of an outbound handshake (connect + Noise), ms. Default 10 000. */
  handshakeTimeout?: number;
  /** Deadline of a whole inbound handshake, from upgrade to authenticated, ms. Default 5 000. */
  inboundHandshakeBudget?: number;
  /** Keep-alive ping interval, ms (three unanswered close the connection). Default 750. */
  keepAlive?: number;
  /** Concurrent streams the peer may open. Default 1100. */
  maxStreams?: number;
  /** Inbound handshakes in progress at once; more are refused. Default 128. */
  maxPendingHandshakes?: number;
  /** Inbound handshakes in progress at once from one source IP (IPv6: /64). Default 8. */
  maxPendingHandshakesPerSource?: number;
  /** Receive memory budget shared by the connections. Default: its own. */
  memory?: MemoryBudget;
  /** Message size cap, send high-water mark and receive queue cap (see `webSocketDuplex`). */
  duplex?: Omit<WebSocketDuplexOptions, "onViolation">;
}

/**
 * The WebSocket + Noise transport.
 *
 * @example
 * ```ts
 * import { WebSocketTransport } from "./websocket.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * declare const ctx: import("./transport.ts").TransportContext;
 * const ws = new WebSocketTransport({ listen: { http: currentPlatform().http, host: "127.0.0.1", port: 0 } });
 * await ws.start(ctx);
 * console.log(ws.listenAddresses); // [{ type: "direct", kind: "ws", host: "127.0.0.1", port: … }]
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly kind = "ws";
  #opts: WebSocketTransportOptions & { memory: MemoryBudget };
  #ctx: TransportContext | null = null;
  #connections: ConnectionSet | null = null;
  #gate: HandshakeGate;
  #server: HttpServer | null = null;
  #listening: Promise<void> | null = null;
  #advertised: SocketAddress | null = null;
  #closed = false;
  #violations = 0;

  /** A WebSocket transport; see `WebSocketTransportOptions`. */
  constructor(options: WebSocketTransportOptions = {}) {
    this.#opts = { ...options, memory: options.memory ?? new MemoryBudget() };
    this.#gate = new HandshakeGate({
      maxPending: options.maxPendingHandshakes ?? 128,
      maxPendingPerSource: options.maxPendingHandshakesPerSource ?? DEFAULT_MAX_PENDING_PER_SOURCE,
    });
  }

  /** The receive memory budget this link's connections share. */
  get memory(): MemoryBudget {
    return this.#opts.memory;
  }

  /** Connections closed because the peer broke the link's rules (text frames, oversize messages, flooding). */
  get violations(): number {
    return this.#violations;
  }

  get listenAddresses(): PeerAddress[] {
    const addr = this.#server?.addr ?? this.#advertised;
    return addr ? [{ type: "direct", kind: "ws", host: addr.hostname, port: addr.port }] : [];
  }

  /**
   * Set the address peers reach our `/macula/ws` at (the status server's,
   * once bound); `null` stops advertising one.
   */
  advertise(addr: SocketAddress | null): void {
    this.#advertised = addr;
  }

  /** `ws://` and `wss://` addresses, where there is a `WebSocket` to dial with (Node 20 has none). */
  canDial(address: PeerAddress): boolean {
    return address.type === "direct" && (address.kind === "ws" || address.kind === "wss") && !!this.#dialer();
  }

  #dialer(): WebSocketConstructor | undefined {
    return this.#opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  }

  start(ctx: TransportContext): Promise<void> {
    if (this.#ctx && this.#ctx !== ctx) {
      return Promise.reject(new Error("WebSocket transport already started by another node"));
    }
    this.#ctx = ctx;
    this.#connections ??= new ConnectionSet(ctx);
    const listen = this.#opts.listen;
    if (!listen) return Promise.resolve();
    const route = this.route(listen.http);
    const notFound = () => new Response("not found", { status: 404 });
    this.#listening ??= listen.http.serve(
      { hostname: listen.host, port: listen.port },
      async (request, info) => (await route(request, new URL(request.url), info?.remoteAddr)) ?? notFound(),
    ).then((server) => {
      if (this.#closed) return server.close();
      this.#server = server;
    }, (error) => {
      this.#listening = null;
      throw error;
    });
    return this.#listening;
  }

  /**
   * An HTTP route serving `/macula/ws` with `http`'s WebSocket upgrade:
   * answers `undefined` for other paths, 426 for a plain request, 503
   * before `start()`. `remote` is the client's address (for the per-source
   * handshake limit).
   */
  route(http: HttpApi): (request: Request, url: URL, remote?: SocketAddress) => Response | undefined {
    return (request, url, remote) => {
      if (url.pathname !== WS_PATH) return undefined;
      if (!isWebSocketUpgrade(request) || !http.upgradeWebSocket) {
        return new Response("WebSocket upgrade required", { status: 426, headers: { upgrade: "websocket" } });
      }
      if (!this.#ctx || this.#closed) return new Response("not serving", { status: 503 });
      const { socket, response } = http.upgradeWebSocket(request);
      this.accept(socket, remote ? hostPort(remote) : "unknown");
      return response;
    };
  }

  /**
   * Take an accepted server-side WebSocket from `remote` (`host:port`):
   * admit it through the handshake limits, run the responder handshake,
   * and hand the connection to the node.
   */
  accept(socket: WebSocketLike, remote: string): void {
    const ctx = this.#ctx;
    if (!ctx || this.#closed) {
      socket.close(1001, "not serving");
      return;
    }
    const slot = this.#gate.enter(remote);
    if (typeof slot === "string") {
      socket.close(1013, "busy");
      ctx.onHandshakeRefused?.(slot, remote, this.kind);
      return;
    }
    this.#inbound(socket, remote, ctx).finally(slot.release);
  }

  async #inbound(socket: WebSocketLike, remote: string, ctx: TransportContext): Promise<void> {
    const pipe = webSocketDuplex(socket, this.#duplexOptions());
    try {
      const session = await secureSession(pipe, {
        role: "responder",
        keyPair: ctx.keyPair,
        kind: this.kind,
        remoteAddress: remote,
        ...this.#sessionOptions(),
        handshakeTimeout: this.#opts.inboundHandshakeBudget ?? DEFAULT_INBOUND_HANDSHAKE_BUDGET,
      });
      ctx.onInbound(this.#connections!.wrap(session));
    } catch (error) {
      pipe.close();
      if (isTimeout(error)) ctx.onHandshakeRefused?.("deadline", remote, this.kind);
      ctx.onHandshakeError?.(error as Error, remote);
    }
  }

  #duplexOptions(): WebSocketDuplexOptions {
    return { ...this.#opts.duplex, onViolation: (_e: WebSocketProtocolError) => this.#violations++ };
  }

  #sessionOptions() {
    const { handshakeTimeout = 10_000, maxStreams = 1100, keepAlive = 750, memory } = this.#opts;
    return { handshakeTimeout, maxStreams, keepAlive, memory };
  }

  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    const Ctor = this.#dialer();
    if (!Ctor) throw new DialError("this runtime has no WebSocket to dial with");
    if (!this.canDial(address) || address.type !== "direct") {
      throw new DialError(`the WebSocket transport cannot dial ${address.type} address ${formatAddress(address)}`);
    }
    const ctx = this.#ctx;
    if (!ctx || !this.#connections) throw new DialError("WebSocket transport is not started");
    const host = address.host.includes(":") ? `[${address.host}]` : address.host;
    const url = `${address.kind}://${host}${address.port > 0 ? `:${address.port}` : ""}${WS_PATH}`;
    const timeout = options.timeout ?? this.#opts.handshakeTimeout ?? 10_000;
    let socket: WebSocketLike;
    try {
      socket = new Ctor(url);
    } catch (error) {
      throw new DialError(`WebSocket dial ${url} failed: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    const pipe = webSocketDuplex(socket, this.#duplexOptions());
    try {
      await withDeadline(pipe.opened, timeout, `WebSocket dial ${url}`, { signal: options.signal });
    } catch (error) {
      pipe.close();
      if (error instanceof TimeoutError || error instanceof AbortedError) throw error;
      throw new DialError(`WebSocket dial ${url} failed: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    const session = await secureSession(pipe, {
      role: "initiator",
      keyPair: ctx.keyPair,
      expected,
      kind: this.kind,
      remoteAddress: hostPort({ hostname: address.host, port: address.port }),
      ...this.#sessionOptions(),
      handshakeTimeout: timeout,
    });
    return this.#connections.wrap(session);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connections?.closeAll("shutting down");
    const server = this.#server;
    this.#server = null;
    await server?.close();
  }
}
