/**
 * One reusable secure session over any byte pipe: a Noise XX channel bound
 * to the nodes' Ed25519 ids (`secure/secure-channel.ts`), then the stream
 * multiplexer (`mux/muxer.ts`) on top. TCP runs it over a socket; a relay
 * runs it end to end over a stream through the relay node (then the
 * session is marked `route: "relayed"`).
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { NodeId } from "../identity/node-id.ts";
import { PeerIdMismatchError } from "../secure/errors.ts";
import { type RawDuplex, type SecureChannel, secureInitiator, secureResponder } from "../secure/secure-channel.ts";
import { Connection, type ConnectionOptions, type InboundGate } from "./connection.ts";
import { Muxer } from "./mux/muxer.ts";
import type { MemoryBudget } from "./mux/receive-budget.ts";
import type { CloseInfo, Direction, Route, Session, TransportKind } from "./session.ts";
import type { ByteStream } from "./stream.ts";

/** Options of `secureSession`. */
export interface SecureSessionOptions {
  /** `"initiator"` on the dialing side (its session is outbound), `"responder"` on the accepting side. */
  role: "initiator" | "responder";
  /** Our identity key. */
  keyPair: KeyPair;
  /**
   * The id the peer must prove; `PeerIdMismatchError` otherwise. The
   * initiator checks it before revealing its own identity.
   */
  expected?: NodeId;
  /** The transport's name, reported as `Session.kind`. */
  kind: TransportKind;
  /** Whether the pipe runs through a relay node. Default `"direct"`. */
  route?: Route;
  /** The peer's address, for display. */
  remoteAddress: string;
  /** Handshake deadline, ms. Default 10 000. */
  handshakeTimeout?: number;
  /** Concurrent streams the peer may open. Default 1100. */
  maxStreams?: number;
  /** Keep-alive ping interval, ms (0 disables it). Default 15 000. */
  keepAlive?: number;
  /**
   * The node-wide receive memory budget this session takes its share of.
   * Default: a budget of its own (16 MiB for this session).
   */
  memory?: MemoryBudget;
}

/** Options of `secureConnection`: those of `secureSession`, plus what a `Connection` needs. */
export interface SecureConnectionOptions extends SecureSessionOptions {
  /** Decides what to do with inbound streams (default-deny). */
  gate: InboundGate;
  /** Options of the resulting `Connection`. */
  connectionOptions?: ConnectionOptions;
}

/** A `Session` made of a secure channel and a stream multiplexer. */
class MuxSession implements Session {
  readonly #muxer: Muxer;
  readonly remoteId: NodeId;

  constructor(
    channel: SecureChannel,
    readonly kind: TransportKind,
    readonly route: Route,
    readonly localId: NodeId,
    readonly direction: Direction,
    readonly remoteAddress: string,
    options: { maxStreams: number; keepAlive: number; memory?: MemoryBudget },
  ) {
    this.#muxer = new Muxer(channel, {
      initiator: direction === "outbound",
      maxStreams: options.maxStreams,
      keepAliveMs: options.keepAlive,
      budget: options.memory?.connection(),
    });
    this.remoteId = channel.remoteId;
  }

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

function isRawDuplex(pipe: RawDuplex | ByteStream): pipe is RawDuplex {
  return typeof (pipe as RawDuplex).close === "function";
}

/**
 * The raw duplex a secure channel needs, over a `ByteStream` (e.g. a stream
 * through a relay): closing it resets the stream.
 */
export function byteStreamDuplex(stream: ByteStream): RawDuplex {
  return {
    read: () => stream.read(),
    write: (chunk) => stream.write(chunk),
    close: () => stream.reset("secure session closed"),
  };
}

/**
 * Run Noise XX and the stream multiplexer over `pipe` (a raw duplex such as
 * a socket, or a `ByteStream`) and return the authenticated session.
 * Rejects with `HandshakeError` or `PeerIdMismatchError`; `pipe` is then
 * closed.
 *
 * @example
 * ```ts
 * import { secureSession } from "./secure-session.ts";
 * import { KeyPair } from "../identity/ed25519.ts";
 * declare const pipe: import("./stream.ts").ByteStream; // e.g. a stream through a relay
 * declare const target: import("../identity/node-id.ts").NodeId;
 * const session = await secureSession(pipe, {
 *   role: "initiator",
 *   keyPair: KeyPair.generate(),
 *   expected: target,
 *   kind: "tcp",
 *   route: "relayed",
 *   remoteAddress: "via relay",
 * });
 * ```
 */
export async function secureSession(pipe: RawDuplex | ByteStream, options: SecureSessionOptions): Promise<Session> {
  const raw = isRawDuplex(pipe) ? pipe : byteStreamDuplex(pipe);
  const timeoutMs = options.handshakeTimeout ?? 10_000;
  const initiator = options.role === "initiator";
  const channel = initiator
    ? await secureInitiator(raw, options.keyPair, { expectedRemoteId: options.expected, timeoutMs })
    : await secureResponder(raw, options.keyPair, { timeoutMs });
  if (!initiator && options.expected && !channel.remoteId.equals(options.expected)) {
    channel.close();
    throw new PeerIdMismatchError(
      `peer proved ${channel.remoteId.did}, not the expected ${options.expected.did}`,
    );
  }
  return new MuxSession(
    channel,
    options.kind,
    options.route ?? "direct",
    new NodeId(options.keyPair.publicKey),
    initiator ? "outbound" : "inbound",
    options.remoteAddress,
    { maxStreams: options.maxStreams ?? 1100, keepAlive: options.keepAlive ?? 15_000, memory: options.memory },
  );
}

/**
 * `secureSession`, wrapped into a `Connection` with `gate` deciding about
 * inbound streams.
 *
 * @example
 * ```ts
 * import { secureConnection } from "./secure-session.ts";
 * import { KeyPair } from "../identity/ed25519.ts";
 * declare const pipe: import("../secure/secure-channel.ts").RawDuplex;
 * const conn = await secureConnection(pipe, {
 *   role: "responder",
 *   keyPair: KeyPair.generate(),
 *   kind: "tcp",
 *   remoteAddress: "10.0.0.2:9443",
 *   gate: () => null, // refuse every inbound stream
 * });
 * console.log(conn.remoteId.did, conn.route);
 * ```
 */
export async function secureConnection(
  pipe: RawDuplex | ByteStream,
  options: SecureConnectionOptions,
): Promise<Connection> {
  return new Connection(await secureSession(pipe, options), options.gate, options.connectionOptions);
}
