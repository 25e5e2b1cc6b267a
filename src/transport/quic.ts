/**
 * The QUIC link (Deno's native QUIC, `--unstable-net`). One endpoint listens
 * and dials. The server is authenticated inside TLS by pinning: the dialer
 * trusts only a certificate for the expected node key (see
 * `secure/certificate.ts`); the client then proves its id in-band and
 * waits for the server's verdict (`quic-auth.ts`), so a dial resolves only
 * once the listener has accepted the connection. ALPN `macula/1`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { QuicApi, QuicConnection, QuicEndpoint, SocketAddress } from "../platform/types.ts";
import { serverNameFor, tlsIdentity, trustAnchor } from "../secure/certificate.ts";
import { withDeadline } from "../util/async.ts";
import { formatAddress, hostPort, type PeerAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { ConnectionSet } from "./connection-set.ts";
import { DialError, HandshakeError, PeerIdMismatchError } from "./errors.ts";
import { DEFAULT_INBOUND_HANDSHAKE_BUDGET, DEFAULT_MAX_PENDING_PER_SOURCE, HandshakeGate } from "./handshake-gate.ts";
import { proveIdentity } from "./quic-auth.ts";
import { acceptClient } from "./quic-accept.ts";
import { QuicByteStream } from "./quic-stream.ts";
import { PunchEndpoint, type PunchEndpointOptions, type UdpPreopener } from "./quic-punch.ts";
import { QUIC_CLOSE, QuicSession } from "./quic-session.ts";
import type { DialOptions, Transport, TransportContext } from "./transport.ts";

/** ALPN protocol id of Macula over QUIC (2: the client waits for the listener's verdict; 1 did not). */
export const ALPN = "macula/2";

/** Tunables of the QUIC link. */
export interface QuicOptions {
  /** Listen address; default `0.0.0.0`. */
  host?: string;
  /** UDP port; default 9443, 0 = ephemeral. */
  port?: number;
  /** Idle timeout, ms (dead-peer detection: a silent peer is dropped after this). Default 3 000. */
  idleTimeout?: number;
  /** Keep-alive interval, ms (several keep-alives per idle timeout, so 10 % loss is no false alarm). Default 1 000. */
  keepAlive?: number;
  /**
   * Concurrent streams the peer may open. Default 1100. Memory: Deno's QUIC
   * stack (quinn) flow-controls each stream (measured: about 1.2 MiB a peer
   * may send on a stream that is not read) but exposes no connection-wide
   * receive window, so a peer may make a listener buffer up to about
   * `maxStreams` × 1.2 MiB inside the stack. We never read ahead of the
   * application (`QuicByteStream` reads on demand; negotiation takes one
   * chunk), and refused streams are reset at once, which frees theirs.
   */
  maxStreams?: number;
  /** Deadline of an outbound handshake (TLS, then our identity proof), ms. Default 10 000. */
  handshakeTimeout?: number;
  /** Deadline of a whole inbound handshake (TLS and the client's proof together), ms. Default 5 000. */
  inboundHandshakeBudget?: number;
  /** Inbound handshakes in progress at once; more are dropped. Default 128. */
  maxPendingHandshakes?: number;
  /**
   * Inbound handshakes in progress at once from one source IP (IPv6: /64),
   * counted once TLS is done (Deno does not show the address before); more
   * are closed. Default 8.
   */
  maxPendingHandshakesPerSource?: number;
  /** UDP sockets, for pre-opening NAT mappings before a punch endpoint binds (`punchEndpoint`). */
  udp?: UdpPreopener;
}

/**
 * The QUIC transport.
 *
 * @example
 * ```ts
 * import { QuicTransport } from "./quic.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * declare const ctx: import("./transport.ts").TransportContext;
 * const quic = new QuicTransport(currentPlatform().quic!, { host: "127.0.0.1", port: 0 });
 * await quic.start(ctx);
 * ```
 */
export class QuicTransport implements Transport {
  readonly kind = "quic";
  #api: QuicApi;
  #ctx: TransportContext | null = null;
  #opts: Required<Omit<QuicOptions, "udp">>;
  #udp?: UdpPreopener;
  #punches = new Set<PunchEndpoint>();
  #punched = new WeakSet<Connection>();
  #endpoint: QuicEndpoint | null = null;
  #listening = false;
  #gate: HandshakeGate;
  #connections: ConnectionSet | null = null;
  #tls: { cert: string; key: string } | null = null;

  /** A QUIC transport over the platform's QUIC `api`, listening per `options` once started. */
  constructor(api: QuicApi, options: QuicOptions = {}) {
    this.#api = api;
    this.#opts = {
      host: "0.0.0.0",
      port: 9443,
      idleTimeout: 3_000,
      keepAlive: 1_000,
      maxStreams: 1100,
      handshakeTimeout: 10_000,
      maxPendingHandshakes: 128,
      maxPendingHandshakesPerSource: DEFAULT_MAX_PENDING_PER_SOURCE,
      inboundHandshakeBudget: DEFAULT_INBOUND_HANDSHAKE_BUDGET,
      ...options,
    };
    this.#udp = options.udp;
    this.#gate = new HandshakeGate({
      maxPending: this.#opts.maxPendingHandshakes,
      maxPendingPerSource: this.#opts.maxPendingHandshakesPerSource,
    });
  }

  get listenAddresses(): PeerAddress[] {
    if (!this.#listening || !this.#endpoint) return [];
    const { hostname, port } = this.#endpoint.addr;
    return [{ type: "direct", kind: "quic", host: hostname, port }];
  }

  canDial(address: PeerAddress): boolean {
    return address.type === "direct" && address.kind === "quic";
  }

  #started(): { ctx: TransportContext; connections: ConnectionSet } {
    if (!this.#ctx || !this.#connections) throw new DialError("QUIC transport is not started");
    return { ctx: this.#ctx, connections: this.#connections };
  }

  #transportOptions() {
    return {
      maxIdleTimeout: this.#opts.idleTimeout,
      keepAliveInterval: this.#opts.keepAlive,
      maxConcurrentBidirectionalStreams: this.#opts.maxStreams,
      maxConcurrentUnidirectionalStreams: 0,
    };
  }

  #ensureEndpoint(): QuicEndpoint {
    return this.#endpoint ??= this.#api.createEndpoint({ hostname: this.#opts.host, port: this.#opts.port });
  }

  start(ctx: TransportContext): Promise<void> {
    if (this.#ctx && this.#ctx !== ctx) {
      return Promise.reject(new Error("QUIC transport already started by another node"));
    }
    this.#ctx = ctx;
    this.#connections ??= new ConnectionSet(ctx);
    if (this.#listening) return Promise.resolve();
    let endpoint: QuicEndpoint;
    try {
      endpoint = this.#ensureEndpoint();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#tls ??= tlsIdentity(ctx.keyPair);
    endpoint.listen(
      { ...this.#transportOptions(), alpnProtocols: [ALPN], cert: this.#tls.cert, key: this.#tls.key },
      (conn) => this.#inbound(conn),
    );
    this.#listening = true;
    return Promise.resolve();
  }

  async #inbound(connecting: Promise<QuicConnection>, punch?: PunchEndpoint): Promise<void> {
    const { ctx, connections } = this.#started();
    const accepted = await acceptClient(connecting, {
      ctx,
      gate: this.#gate,
      budget: this.#opts.inboundHandshakeBudget,
      kind: this.kind,
    });
    if (accepted === null) return;
    const { conn, remoteId, incoming } = accepted;
    // The client has its verdict (or the connection ended after it): the connection is accepted.
    const connection = connections.wrap(new QuicSession(conn, incoming, ctx.localId, remoteId, "inbound"));
    if (punch) this.#adoptPunched(punch, connection);
    ctx.onInbound(connection);
  }

  #adoptPunched(punch: PunchEndpoint, connection: Connection): void {
    this.#punched.add(connection);
    punch.track(connection);
  }

  /** Was `connection` made or accepted by a punch endpoint (not the listening endpoint)? */
  isPunched(connection: Connection): boolean {
    return this.#punched.has(connection);
  }

  /**
   * A free local UDP port for a later `punchEndpoint` (bound and released
   * at once; needs `udp` in the options). Rejects with `DialError`.
   */
  async pickPunchPort(): Promise<number> {
    if (!this.#udp) throw new DialError("no UDP sockets to pick a punch port with (QuicOptions.udp)");
    try {
      return await this.#udp.preopen({ hostname: this.#opts.host, port: 0, to: [], ttl: 2 });
    } catch (error) {
      throw new DialError(`cannot pick a punch port: ${(error as Error)?.message ?? error}`, { cause: error });
    }
  }

  /**
   * A fresh endpoint for hole punching: on `options.port` (0: a free one),
   * bound right after that port sent one datagram with TTL `options.ttl`
   * (default 2) to each of `options.preopen`, so our NAT holds a mapping
   * towards the peer before its first packet arrives (needs `udp` in the
   * options). It listens with the node's identity (inbound connections go
   * to the node as usual) and dials from its own port; every connection it
   * makes is handed to the node too. Rejects with `DialError` when the port
   * cannot be bound.
   */
  async punchEndpoint(options: PunchEndpointOptions = {}): Promise<PunchEndpoint> {
    const { ctx } = this.#started();
    const host = this.#opts.host;
    let port = options.port ?? 0;
    const preopen = options.preopen ?? [];
    let endpoint: QuicEndpoint;
    try {
      if (this.#udp) {
        port = await this.#udp.preopen({ hostname: host, port, to: preopen, ttl: options.ttl ?? 2 });
      } else if (preopen.length > 0) {
        throw new Error("no UDP sockets to pre-open with (QuicOptions.udp)");
      }
      endpoint = this.#api.createEndpoint({ hostname: host, port });
    } catch (error) {
      throw new DialError(`cannot open a punch endpoint on port ${port}: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    }
    this.#tls ??= tlsIdentity(ctx.keyPair);
    const punch: PunchEndpoint = new PunchEndpoint({
      endpoint,
      dial: async (ep, address, expected, dialOptions) => {
        const connection = await this.#dialFrom(ep, address, expected, dialOptions);
        this.#adoptPunched(punch, connection);
        ctx.onInbound(connection);
        return connection;
      },
      onClose: (p) => this.#punches.delete(p),
    });
    this.#punches.add(punch);
    endpoint.listen(
      { ...this.#transportOptions(), alpnProtocols: [ALPN], cert: this.#tls.cert, key: this.#tls.key },
      (conn) => this.#inbound(conn, punch),
    );
    return punch;
  }

  dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    if (!this.canDial(address) || address.type !== "direct") {
      return Promise.reject(new DialError(`the QUIC transport cannot dial ${formatAddress(address)}`));
    }
    const to = { hostname: address.host, port: address.port };
    if (!options.fresh) return this.#dialFrom(this.#ensureEndpoint(), to, expected, options);
    return this.#dialFresh(to, expected, options);
  }

  /** Dial from a new endpoint on a free port, closed with the connection (a dial-back must not ride our NAT mapping). */
  async #dialFresh(to: SocketAddress, expected: NodeId, options: DialOptions): Promise<Connection> {
    const endpoint = this.#api.createEndpoint({ hostname: this.#opts.host, port: 0 });
    try {
      const connection = await this.#dialFrom(endpoint, to, expected, options);
      connection.closed.finally(() => endpoint.close());
      return connection;
    } catch (error) {
      endpoint.close();
      throw error;
    }
  }

  async #dialFrom(
    endpoint: QuicEndpoint,
    address: SocketAddress,
    expected: NodeId,
    options: DialOptions,
  ): Promise<Connection> {
    const { ctx, connections } = this.#started();
    const target = `quic://${hostPort(address)}`;
    const timeout = options.timeout ?? this.#opts.handshakeTimeout;
    let conn: QuicConnection;
    try {
      conn = await withDeadline(
        endpoint.connect({
          ...this.#transportOptions(),
          hostname: address.hostname,
          port: address.port,
          serverName: serverNameFor(expected.bytes),
          alpnProtocols: [ALPN],
          caCerts: [trustAnchor(expected.bytes)],
        }),
        timeout,
        `QUIC dial ${target}`,
        { signal: options.signal, onLate: (c) => c.close({ closeCode: QUIC_CLOSE.normal, reason: "dial timeout" }) },
      );
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      if (/UnknownIssuer|not valid for name|invalid peer certificate/i.test(message)) {
        throw new PeerIdMismatchError(
          `${target} did not prove it is ${expected.did} (TLS certificate is for another key)`,
          { cause: error },
        );
      }
      if ((error as Error)?.name === "TimeoutError" || (error as Error)?.name === "AbortedError") throw error;
      throw new DialError(`QUIC dial ${target} failed: ${message}`, { cause: error });
    }
    try {
      const incoming = conn.incomingBidirectionalStreams.getReader();
      await withDeadline(
        (async () => {
          const first = await incoming.read();
          if (first.done) throw new HandshakeError(`${target} closed before authentication`);
          await proveIdentity(new QuicByteStream(first.value), ctx.keyPair, expected);
        })(),
        timeout,
        `QUIC authentication with ${target}`,
        { signal: options.signal },
      );
      return connections.wrap(new QuicSession(conn, incoming, ctx.localId, expected, "outbound"));
    } catch (error) {
      try {
        conn.close({ closeCode: QUIC_CLOSE.authFailed, reason: "authentication failed" });
      } catch {
        // already closed
      }
      if (error instanceof HandshakeError) throw error;
      const e = error as Error;
      if (e?.name === "TimeoutError" || e?.name === "AbortedError") throw error;
      throw new HandshakeError(`QUIC authentication with ${target} failed: ${e?.message ?? e}`, { cause: error });
    }
  }

  close(): Promise<void> {
    for (const punch of [...this.#punches]) punch.close();
    this.#connections?.closeAll("shutting down");
    this.#endpoint?.close();
    this.#endpoint = null;
    this.#listening = false;
    return Promise.resolve();
  }
}
