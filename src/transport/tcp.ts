/**
 * The TCP link: TCP socket → Noise XX channel bound to the node's Ed25519
 * id → stream multiplexer with per-stream flow control, both composed by
 * `secure-session.ts`. Runs on every runtime.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { TcpApi, TcpListener, TcpSocket } from "../platform/types.ts";
import type { Duplex } from "../wire/frame.ts";
import { withDeadline } from "../util/async.ts";
import { MaculaError } from "../util/errors.ts";
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
import { secureSession } from "./secure-session.ts";
import { MemoryBudget } from "./mux/receive-budget.ts";
import type { DialOptions, Transport, TransportContext } from "./transport.ts";

/** Tunables of the TCP link. */
export interface TcpOptions {
  /** Listen address; default `0.0.0.0`. */
  host?: string;
  /** TCP port; default 9443, 0 = ephemeral. */
  port?: number;
  /** Deadline of an outbound handshake (connect + Noise), ms. Default 10 000. */
  handshakeTimeout?: number;
  /** Deadline of a whole inbound handshake, from accept to authenticated, ms. Default 5 000. */
  inboundHandshakeBudget?: number;
  /** Keep-alive ping interval, ms (dead-peer detection: three unanswered intervals close the connection). Default 750. */
  keepAlive?: number;
  /** Concurrent streams the peer may open. Default 1100. */
  maxStreams?: number;
  /** Inbound handshakes in progress at once; more are dropped. Default 128. */
  maxPendingHandshakes?: number;
  /**
   * Receive memory budget shared by every connection of this link (and of
   * whatever else the node hands it to): unread bytes per connection and in
   * total. Default: its own, 16 MiB per connection, 64 MiB in total.
   */
  memory?: MemoryBudget;
  /** Inbound handshakes in progress at once from one source IP (IPv6: /64); more are dropped. Default 8. */
  maxPendingHandshakesPerSource?: number;
}

const READ_SIZE = 64 * 1024;
const READ_ARENA = 1024 * 1024;

/**
 * Adapt a platform socket to the byte duplex the Noise channel runs on.
 * Reads land in a shared 1 MiB arena and are returned as views of it; the
 * arena is never written twice, so returned chunks stay valid (the layers
 * above keep zero-copy references).
 */
export function socketDuplex(socket: TcpSocket): Duplex {
  let arena = new Uint8Array(READ_ARENA);
  let offset = 0;
  return {
    async read() {
      if (arena.length - offset < READ_SIZE) {
        arena = new Uint8Array(READ_ARENA);
        offset = 0;
      }
      const n = await socket.read(arena.subarray(offset, offset + READ_SIZE));
      if (n === null) return null;
      const chunk = arena.subarray(offset, offset + n);
      offset += n;
      return chunk;
    },
    write: (chunk) => socket.write(chunk),
    close: () => socket.close(),
  };
}

/**
 * The TCP + Noise transport.
 *
 * @example
 * ```ts
 * import { TcpTransport } from "./tcp.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * declare const ctx: import("./transport.ts").TransportContext;
 * const tcp = new TcpTransport(currentPlatform().tcp, { host: "127.0.0.1", port: 0 });
 * await tcp.start(ctx);
 * ```
 */
export class TcpTransport implements Transport {
  readonly kind = "tcp";
  #api: TcpApi;
  #ctx: TransportContext | null = null;
  #opts: Required<TcpOptions>;
  #listener: TcpListener | null = null;
  #listening: Promise<void> | null = null;
  #gate: HandshakeGate;
  #connections: ConnectionSet | null = null;
  #closed = false;

  /** A TCP + Noise transport over the platform's TCP `api`, listening per `options` once started. */
  constructor(api: TcpApi, options: TcpOptions = {}) {
    this.#api = api;
    this.#opts = {
      host: "0.0.0.0",
      port: 9443,
      handshakeTimeout: 10_000,
      keepAlive: 750,
      maxStreams: 1100,
      maxPendingHandshakes: 128,
      maxPendingHandshakesPerSource: DEFAULT_MAX_PENDING_PER_SOURCE,
      inboundHandshakeBudget: DEFAULT_INBOUND_HANDSHAKE_BUDGET,
      ...options,
      memory: options.memory ?? new MemoryBudget(),
    };
    this.#gate = new HandshakeGate({
      maxPending: this.#opts.maxPendingHandshakes,
      maxPendingPerSource: this.#opts.maxPendingHandshakesPerSource,
    });
  }

  /** The receive memory budget this link's connections share. */
  get memory(): MemoryBudget {
    return this.#opts.memory;
  }

  get listenAddresses(): PeerAddress[] {
    if (!this.#listener) return [];
    const { hostname, port } = this.#listener.addr;
    return [{ type: "direct", kind: "tcp", host: hostname, port }];
  }

  canDial(address: PeerAddress): boolean {
    return address.type === "direct" && address.kind === "tcp";
  }

  #started(): { ctx: TransportContext; connections: ConnectionSet } {
    if (!this.#ctx || !this.#connections) throw new DialError("TCP transport is not started");
    return { ctx: this.#ctx, connections: this.#connections };
  }

  start(ctx: TransportContext): Promise<void> {
    if (this.#ctx && this.#ctx !== ctx) {
      return Promise.reject(new Error("TCP transport already started by another node"));
    }
    this.#ctx = ctx;
    this.#connections ??= new ConnectionSet(ctx);
    this.#listening ??= this.#api.listen({ hostname: this.#opts.host, port: this.#opts.port }).then((listener) => {
      if (this.#closed) return listener.close();
      this.#listener = listener;
      this.#acceptLoop(listener);
    }, (error) => {
      this.#listening = null;
      throw error;
    });
    return this.#listening;
  }

  async #acceptLoop(listener: TcpListener): Promise<void> {
    while (!this.#closed) {
      let socket: TcpSocket;
      try {
        socket = await listener.accept();
      } catch {
        if (this.#closed || this.#listener !== listener) return;
        continue;
      }
      const remote = hostPort(socket.remoteAddr);
      const slot = this.#gate.enter(remote);
      if (typeof slot === "string") {
        socket.close();
        this.#ctx?.onHandshakeRefused?.(slot, remote, this.kind);
        continue;
      }
      this.#inbound(socket, remote).finally(slot.release);
    }
  }

  async #inbound(socket: TcpSocket, remote: string): Promise<void> {
    const { ctx, connections } = this.#started();
    try {
      const session = await secureSession(socketDuplex(socket), {
        role: "responder",
        keyPair: ctx.keyPair,
        kind: "tcp",
        remoteAddress: remote,
        ...this.#sessionOptions(),
        handshakeTimeout: this.#opts.inboundHandshakeBudget,
      });
      ctx.onInbound(connections.wrap(session));
    } catch (error) {
      socket.close();
      if (isTimeout(error)) ctx.onHandshakeRefused?.("deadline", remote, this.kind);
      ctx.onHandshakeError?.(error as Error, remote);
    }
  }

  #sessionOptions() {
    const { handshakeTimeout, maxStreams, keepAlive, memory } = this.#opts;
    return { handshakeTimeout, maxStreams, keepAlive, memory };
  }

  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    if (!this.canDial(address) || address.type !== "direct") {
      throw new DialError(`the TCP transport cannot dial ${address.type} address ${formatAddress(address)}`);
    }
    const { ctx, connections } = this.#started();
    const target = `tcp://${hostPort({ hostname: address.host, port: address.port })}`;
    const timeout = options.timeout ?? this.#opts.handshakeTimeout;
    let socket: TcpSocket;
    try {
      socket = await withDeadline(
        this.#api.connect({ hostname: address.host, port: address.port }),
        timeout,
        `TCP dial ${target}`,
        {
          signal: options.signal,
          onLate: (s) => s.close(),
        },
      );
    } catch (error) {
      if (error instanceof MaculaError) throw error;
      throw new DialError(`TCP dial ${target} failed: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    const session = await secureSession(socketDuplex(socket), {
      role: "initiator",
      keyPair: ctx.keyPair,
      expected,
      kind: "tcp",
      remoteAddress: hostPort(socket.remoteAddr),
      ...this.#sessionOptions(),
      handshakeTimeout: timeout,
    });
    return connections.wrap(session);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#listener?.close();
    this.#listener = null;
    this.#connections?.closeAll("shutting down");
    return Promise.resolve();
  }
}
