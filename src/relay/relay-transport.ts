/**
 * The relay transport: a `Transport` of kind `relay` that dials relayed
 * addresses (`<relay address>/<relay did>/circuit/<target did>`). It reaches
 * the relay through the node (`TransportContext.dial`, reusing the open
 * connection), asks it for a circuit (`/macula/relay/hop/1` CONNECT) and runs
 * the Noise XX + mux session end to end with the target through that
 * stream, pinned to the target's id: the relay forwards ciphertext only.
 *
 * Dialing `R2/circuit/B` races (a) through R2 itself and (b) through each
 * relay this node holds a reservation at, naming `via: R2` — so a node
 * reserved on R1 reaches B reserved only on R2 without any connection to
 * R2. A relay is never dialed through a relay. Inbound circuits arrive
 * through the relay client (`/macula/relay/stop/1`), which hands them to
 * `accept`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { PeerIdMismatchError } from "../secure/errors.ts";
import { formatAddress, type PeerAddress, type RelayedAddress } from "../transport/address.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { DialError, ProtocolRefusedError } from "../transport/errors.ts";
import { secureConnection } from "../transport/secure-session.ts";
import type { TransportKind } from "../transport/session.ts";
import type { DialOptions, Transport, TransportContext } from "../transport/transport.ts";
import { withDeadline } from "../util/async.ts";
import { RelayRefusedError } from "./errors.ts";
import {
  decodeRelayAnswer,
  encodeHopRequest,
  HOP_PROTOCOL,
  type HopRequest,
  MAX_RELAY_MESSAGE,
  type RelayAnswer,
} from "./messages.ts";

/** The kind (and `Connection.transport`) of relayed connections. */
export const RELAY_TRANSPORT = "relay";

/** A relay this node holds a reservation at, as the client tells the transport. */
export interface ReservedRelay {
  /** The relay's id. */
  id: NodeId;
  /** The open connection to it. */
  connection: Connection;
}

/**
 * Send one hop request to the relay on `relay`; resolves with the stream
 * and the relay's acceptance (after which a CONNECT's stream carries the
 * circuit). Rejects with `RelayRefusedError` (`relay-disabled` when the node
 * does not serve as a relay), or the stream's errors.
 *
 * @example
 * ```ts
 * import { hopRequest } from "./relay-transport.ts";
 * declare const relay: import("../transport/connection.ts").Connection;
 * const { stream, answer } = await hopRequest(relay, { t: "reserve" });
 * console.log(answer.ttl);
 * await stream.closeWrite();
 * ```
 */
export async function hopRequest(
  relay: Connection,
  request: HopRequest,
  options: { signal?: AbortSignal; timeout?: number } = {},
): Promise<{ stream: Stream; answer: RelayAnswer & { ok: true } }> {
  let stream: Stream;
  try {
    stream = await relay.openStream(HOP_PROTOCOL, options);
  } catch (error) {
    if (error instanceof ProtocolRefusedError) {
      throw new RelayRefusedError("relay-disabled", `${relay.remoteId.did} does not serve as a relay`);
    }
    throw error;
  }
  try {
    await stream.writeFrame(encodeHopRequest(request), MAX_RELAY_MESSAGE);
    const answer = await withDeadline(
      stream.readMessage(decodeRelayAnswer, MAX_RELAY_MESSAGE),
      options.timeout ?? 10_000,
      "relay answer",
      { signal: options.signal },
    );
    if (answer === null) throw new DialError(`relay ${relay.remoteId.short} closed the stream without an answer`);
    if (!answer.ok) throw new RelayRefusedError(answer.reason, `by relay ${relay.remoteId.short}`);
    return { stream, answer };
  } catch (error) {
    stream.reset("hop request failed");
    throw error;
  }
}

/**
 * Ask the relay on `relay` for a circuit (a CONNECT `request`); resolves
 * with the stream carrying it. Rejects like `hopRequest`.
 *
 * @example
 * ```ts
 * import { openCircuit } from "./relay-transport.ts";
 * declare const relay: import("../transport/connection.ts").Connection;
 * declare const target: import("../identity/node-id.ts").NodeId;
 * const stream = await openCircuit(relay, { t: "connect", target });
 * ```
 */
export async function openCircuit(
  relay: Connection,
  request: HopRequest & { t: "connect" },
  options: { signal?: AbortSignal; timeout?: number } = {},
): Promise<Stream> {
  return (await hopRequest(relay, request, options)).stream;
}

/**
 * The relay transport.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * import { RelayTransport } from "./relay-transport.ts";
 * const relay = new RelayTransport();
 * await using node = await Node.start({ dataDir: ".macula", port: 0, transports: ["tcp", relay], relay: false });
 * relay.canDial({ type: "direct", kind: "tcp", host: "127.0.0.1", port: 1 }); // false: relayed addresses only
 * ```
 */
export class RelayTransport implements Transport {
  readonly kind: TransportKind = RELAY_TRANSPORT;
  readonly listenAddresses: PeerAddress[] = [];
  #ctx?: TransportContext;
  #conns = new Set<Connection>();
  #relayOf = new WeakMap<Connection, NodeId>();
  /** Relays being reached right now: never dialed through a relay themselves. */
  #reaching = new Map<string, number>();
  /** Relays this node is reserved at (set by the relay client). */
  reservedRelays: () => ReservedRelay[] = () => [];

  /** The node's context, once started. */
  get context(): TransportContext | undefined {
    return this.#ctx;
  }

  start(ctx: TransportContext): Promise<void> {
    this.#ctx = ctx;
    return Promise.resolve();
  }

  canDial(address: PeerAddress): boolean {
    return address.type === "relayed";
  }

  /** The relay a relayed connection made or accepted here runs through. */
  relayOf(connection: Connection): NodeId | undefined {
    return this.#relayOf.get(connection);
  }

  /**
   * Connect to a relay at its direct `address` through the node (reusing
   * the open connection). Refuses a connection that itself runs through a
   * relay.
   */
  async reach(address: PeerAddress, options: { signal?: AbortSignal } = {}): Promise<Connection> {
    const ctx = this.#ctx;
    if (!ctx?.dial) throw new DialError("the relay transport runs only inside a node");
    if (address.type !== "direct" || !address.id) throw new DialError("a relay is reached at a direct address");
    const id = address.id;
    this.#reaching.set(id.hex, (this.#reaching.get(id.hex) ?? 0) + 1);
    try {
      const conn = await ctx.dial(address, id, options);
      if (conn.relayed) throw new DialError(`relay ${id.short} is connected only through a relay`);
      return conn;
    } finally {
      const n = (this.#reaching.get(id.hex) ?? 1) - 1;
      if (n <= 0) this.#reaching.delete(id.hex);
      else this.#reaching.set(id.hex, n);
    }
  }

  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    const ctx = this.#ctx;
    if (!ctx) throw new DialError("relay transport not started");
    if (address.type !== "relayed") throw new DialError(`not a relayed address: ${formatAddress(address)}`);
    if (!address.id.equals(expected)) {
      throw new PeerIdMismatchError(`address names ${address.id.did}, expected ${expected.did}`);
    }
    if (this.#reaching.has(expected.hex)) throw new DialError("a relay is never dialed through a relay");
    if (address.relay.id.equals(ctx.localId) || expected.equals(ctx.localId)) {
      throw new DialError("refusing a circuit through or to this node itself");
    }
    const timeout = options.timeout ?? 10_000;
    const signal = AbortSignal.any([AbortSignal.timeout(timeout), ...(options.signal ? [options.signal] : [])]);
    const stream = await this.#race(address, signal);
    try {
      const conn = await secureConnection(stream, {
        role: "initiator",
        keyPair: ctx.keyPair,
        expected,
        kind: RELAY_TRANSPORT,
        route: "relayed",
        remoteAddress: formatAddress({ ...address.relay, id: stream.remoteId }),
        handshakeTimeout: timeout,
        gate: ctx.gate,
        connectionOptions: ctx.connectionOptions,
      });
      this.#track(conn, stream.remoteId);
      return conn;
    } catch (error) {
      stream.reset("end-to-end handshake failed");
      throw error;
    }
  }

  /** Race a circuit through the named relay and through each relay we are reserved at (naming it as `via`). */
  async #race(address: RelayedAddress, signal: AbortSignal): Promise<Stream> {
    const target = address.id;
    const relayId = address.relay.id;
    const attempts: Array<Promise<Stream>> = [
      this.reach(address.relay, { signal }).then((relay) => openCircuit(relay, { t: "connect", target }, { signal })),
    ];
    for (const r of this.reservedRelays()) {
      if (r.id.equals(relayId) || r.id.equals(target) || r.connection.isClosed) continue;
      attempts.push(openCircuit(r.connection, { t: "connect", target, via: relayId }, { signal }));
    }
    try {
      return await firstOf(attempts);
    } catch (error) {
      const errors = (error as AggregateError).errors ?? [error];
      throw errors.find((e) => e instanceof RelayRefusedError && e.reason !== "no-reservation") ??
        errors.find((e) => e instanceof RelayRefusedError) ?? errors[0];
    }
  }

  /** Take an inbound relayed connection (from the relay client) and hand it to the node. */
  accept(connection: Connection, relay: NodeId): void {
    this.#track(connection, relay);
    this.#ctx?.onInbound(connection);
  }

  #track(conn: Connection, relay: NodeId): void {
    this.#relayOf.set(conn, relay);
    this.#conns.add(conn);
    conn.closed.then(() => this.#conns.delete(conn));
  }

  close(): Promise<void> {
    for (const c of [...this.#conns]) c.close("relay transport closing");
    this.#conns.clear();
    return Promise.resolve();
  }
}

/** The first attempt to succeed (the others' streams are reset); rejects with an `AggregateError` if all fail. */
function firstOf(attempts: Array<Promise<Stream>>): Promise<Stream> {
  let won = false;
  const tracked = attempts.map((p) =>
    p.then((s) => {
      if (won) {
        s.reset("lost the race");
        throw new DialError("lost the race");
      }
      won = true;
      return s;
    })
  );
  return Promise.any(tracked);
}
