/**
 * The TCP link: TCP socket → Noise XX channel bound to the node's Ed25519
 * id (`secure/secure-channel.ts`) → stream multiplexer with per-stream flow
 * control (`mux/muxer.ts`). Runs on every runtime.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { TcpApi, TcpListener, TcpSocket } from "../platform/types.ts";
import type { SecureChannel } from "../secure/secure-channel.ts";
import type { Duplex } from "../wire/frame.ts";
import { secureInitiator, secureResponder } from "../secure/secure-channel.ts";
import { withDeadline } from "../util/async.ts";
import { MaculaError } from "../util/errors.ts";
import { hostPort, type PeerAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { ConnectionSet } from "./connection-set.ts";
import { DialError } from "./errors.ts";
import { Muxer } from "./mux/muxer.ts";
import type { CloseInfo, Direction, Session } from "./session.ts";
import type { ByteStream } from "./stream.ts";
import type { DialOptions, Transport, TransportContext } from "./transport.ts";

/** Tunables of the TCP link. */
export interface TcpOptions {
  /** Listen address; default `0.0.0.0`. */
  host?: string;
  /** TCP port; default 9443, 0 = ephemeral. */
  port?: number;
  /** Handshake deadline, ms. Default 10 000. */
  handshakeTimeout?: number;
  /** Keep-alive ping interval, ms (dead-peer detection). Default 15 000. */
  keepAlive?: number;
  /** Concurrent streams the peer may open. Default 1100. */
  maxStreams?: number;
  /** Inbound handshakes in progress at once; more are dropped. Default 128. */
  maxPendingHandshakes?: number;
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

class TcpSession implements Session {
  readonly kind = "tcp" as const;
  #muxer: Muxer;

  constructor(
    channel: SecureChannel,
    readonly localId: NodeId,
    readonly direction: Direction,
    readonly remoteAddress: string,
    options: { maxStreams: number; keepAlive: number },
  ) {
    this.#muxer = new Muxer(channel, {
      initiator: direction === "outbound",
      maxStreams: options.maxStreams,
      keepAliveMs: options.keepAlive,
    });
    this.remoteId = channel.remoteId;
  }

  readonly remoteId: NodeId;

  get closed(): Promise<CloseInfo> {
    return this.#muxer.closed;
  }

  openStream(): Promise<ByteStream> {
    return this.#muxer.openStream();
  }

  onStream(handler: (s: ByteStream) => void): void {
    this.#muxer.onStream(handler);
  }

  close(reason?: string, error?: Error): void {
    this.#muxer.close(reason, error);
  }
}

/**
 * The TCP + Noise transport.
 *
 * @example
 * ```ts
 * import { TcpTransport } from "./tcp.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * declare const ctx: import("./transport.ts").TransportContext;
 * const tcp = new TcpTransport(currentPlatform().tcp, ctx, { host: "127.0.0.1", port: 0 });
 * await tcp.listen();
 * ```
 */
export class TcpTransport implements Transport {
  readonly kind = "tcp" as const;
  #api: TcpApi;
  #ctx: TransportContext;
  #opts: Required<TcpOptions>;
  #listener: TcpListener | null = null;
  #listening: Promise<void> | null = null;
  #pending = 0;
  #connections: ConnectionSet;
  #closed = false;

  constructor(api: TcpApi, ctx: TransportContext, options: TcpOptions = {}) {
    this.#api = api;
    this.#ctx = ctx;
    this.#connections = new ConnectionSet(ctx);
    this.#opts = {
      host: "0.0.0.0",
      port: 9443,
      handshakeTimeout: 10_000,
      keepAlive: 15_000,
      maxStreams: 1100,
      maxPendingHandshakes: 128,
      ...options,
    };
  }

  get listenAddresses(): PeerAddress[] {
    if (!this.#listener) return [];
    const { hostname, port } = this.#listener.addr;
    return [{ kind: "tcp", host: hostname, port }];
  }

  listen(): Promise<void> {
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
      if (this.#pending >= this.#opts.maxPendingHandshakes) {
        socket.close();
        continue;
      }
      this.#inbound(socket);
    }
  }

  async #inbound(socket: TcpSocket): Promise<void> {
    this.#pending++;
    const remote = hostPort(socket.remoteAddr);
    try {
      const channel = await secureResponder(socketDuplex(socket), this.#ctx.keyPair, {
        timeoutMs: this.#opts.handshakeTimeout,
      });
      this.#ctx.onInbound(
        this.#connections.wrap(new TcpSession(channel, this.#ctx.localId, "inbound", remote, this.#opts)),
      );
    } catch (error) {
      socket.close();
      this.#ctx.onHandshakeError?.(error as Error, remote);
    } finally {
      this.#pending--;
    }
  }

  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
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
    const channel = await secureInitiator(socketDuplex(socket), this.#ctx.keyPair, {
      expectedRemoteId: expected,
      timeoutMs: timeout,
    });
    const session = new TcpSession(channel, this.#ctx.localId, "outbound", hostPort(socket.remoteAddr), this.#opts);
    return this.#connections.wrap(session);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#listener?.close();
    this.#listener = null;
    this.#connections.closeAll("shutting down");
    return Promise.resolve();
  }
}
