/**
 * Test transports over an in-process "switchboard": relayed connections
 * without a relay node, and a direct path that a test can kill.
 *
 * Every connection is the real thing above the byte pipe: Noise XX pinned
 * to the target's id and the stream multiplexer (`secureConnection`), over
 * an in-memory duplex pair (`duplex_pair.ts`). A `PipeTransport` with
 * `route: "relayed"` (kind `relay`) marks its connections `relayed` and is
 * dialed by `RelayedAddress` strings
 * (`relay://<board>/<fake relay did>/circuit/<target did>`); one with
 * `route: "direct"` (kind `pipe`) by `pipe://<board>/<did>`. Each connection
 * counts the bytes it carried (`bytesOf`), and `kill()` cuts every pipe of
 * a transport at once (both ends see the link die) and refuses new ones
 * until `revive()`.
 *
 * @module
 */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import type { PeerAddress } from "../../src/transport/address.ts";
import type { Connection } from "../../src/transport/connection.ts";
import { DialError } from "../../src/transport/errors.ts";
import { secureConnection } from "../../src/transport/secure-session.ts";
import type { Route } from "../../src/transport/session.ts";
import type { DialOptions, Transport, TransportContext } from "../../src/transport/transport.ts";
import type { RawDuplex } from "../../src/secure/secure-channel.ts";
import { duplexPair, type MemoryDuplex } from "./duplex_pair.ts";

/** Where `PipeTransport`s find each other. */
export class Switchboard {
  /** The host part of addresses on this board. */
  readonly name: string;
  /** The id relayed addresses name as their relay (no node holds it). */
  readonly relayId: NodeId = new NodeId(KeyPair.generate().publicKey);
  #listeners = new Map<string, PipeTransport>();

  /** A board named `name` (the host of its addresses). */
  constructor(name = "board") {
    this.name = name;
  }

  /** @internal */
  register(kind: string, id: NodeId, transport: PipeTransport): void {
    this.#listeners.set(`${kind}|${id.hex}`, transport);
  }

  /** @internal */
  unregister(kind: string, id: NodeId): void {
    this.#listeners.delete(`${kind}|${id.hex}`);
  }

  /** @internal */
  find(kind: string, id: NodeId): PipeTransport | undefined {
    return this.#listeners.get(`${kind}|${id.hex}`);
  }
}

/** Bytes one connection carried, both directions, above the pipe (ciphertext). */
export interface ByteCounter {
  bytes: number;
}

/** Options of a `PipeTransport`. */
export interface PipeTransportOptions {
  /** `"relayed"` (kind `relay`, relayed addresses) or `"direct"` (kind `pipe`). */
  route: Route;
  /** One-way delay of every chunk, ms (order kept; writes do not wait for it). Default 0. */
  latency?: number;
}

/** One pipe between two transports: both ends and its counter. */
interface Pipe {
  ends: MemoryDuplex[];
  owners: PipeTransport[];
  counter: ByteCounter;
}

/** A test transport over a `Switchboard` (see the module comment). */
export class PipeTransport implements Transport {
  readonly kind: string;
  readonly route: Route;
  /** Bytes every connection of this transport carried so far. */
  readonly total: ByteCounter = { bytes: 0 };
  #board: Switchboard;
  #latency: number;
  #ctx: TransportContext | null = null;
  #pipes = new Set<Pipe>();
  #counters = new WeakMap<Connection, ByteCounter>();
  #down = false;

  /** A transport on `board`. */
  constructor(board: Switchboard, options: PipeTransportOptions) {
    this.#board = board;
    this.route = options.route;
    this.kind = options.route === "relayed" ? "relay" : "pipe";
    this.#latency = options.latency ?? 0;
  }

  get listenAddresses(): PeerAddress[] {
    const ctx = this.#ctx;
    if (!ctx || this.#down) return [];
    return [this.addressOf(ctx.localId)];
  }

  /** The address of node `id` on this kind of transport and board. */
  addressOf(id: NodeId): PeerAddress {
    const host = this.#board.name;
    if (this.route === "direct") return { type: "direct", kind: this.kind, host, port: 0, id };
    return { type: "relayed", relay: { type: "direct", kind: this.kind, host, port: 0, id: this.#board.relayId }, id };
  }

  canDial(address: PeerAddress): boolean {
    const direct = address.type === "direct" ? address : address.relay;
    return (address.type === "relayed") === (this.route === "relayed") && direct.kind === this.kind &&
      direct.host === this.#board.name;
  }

  start(ctx: TransportContext): Promise<void> {
    this.#ctx = ctx;
    this.#board.register(this.kind, ctx.localId, this);
    return Promise.resolve();
  }

  /** Bytes `conn` (made or accepted by this transport) carried. */
  bytesOf(conn: Connection): number {
    return this.#counters.get(conn)?.bytes ?? 0;
  }

  /** Connections of this transport still open. */
  get open(): number {
    return this.#pipes.size;
  }

  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    const ctx = this.#ctx;
    if (!ctx || !this.canDial(address)) throw new DialError(`${this.kind} transport cannot dial this address`);
    const target = this.#board.find(this.kind, expected);
    if (this.#down || !target || target.#down) throw new DialError(`no ${this.kind} path to ${expected.short}`);
    const [mine, theirs] = duplexPair({ highWaterMark: 256 * 1024 });
    const pipe: Pipe = { ends: [mine, theirs], owners: [this, target], counter: { bytes: 0 } };
    this.#pipes.add(pipe);
    target.#pipes.add(pipe);
    const accepted = target.#accept(this.#wrap(theirs, pipe), pipe, ctx.localId);
    accepted.catch(() => {});
    try {
      const conn = await secureConnection(this.#wrap(mine, pipe), {
        role: "initiator",
        keyPair: ctx.keyPair,
        expected,
        kind: this.kind,
        route: this.route,
        remoteAddress: `${this.kind}:${expected.short}`,
        handshakeTimeout: options.timeout,
        gate: ctx.gate,
        connectionOptions: ctx.connectionOptions,
      });
      this.#track(conn, pipe, mine);
      return conn;
    } catch (error) {
      this.#cut(pipe);
      throw new DialError(`${this.kind} dial to ${expected.short} failed: ${(error as Error).message}`);
    }
  }

  async #accept(end: RawDuplex, pipe: Pipe, from: NodeId): Promise<void> {
    const ctx = this.#ctx!;
    const conn = await secureConnection(end, {
      role: "responder",
      keyPair: ctx.keyPair,
      kind: this.kind,
      route: this.route,
      remoteAddress: `${this.kind}:${from.short}`,
      gate: ctx.gate,
      connectionOptions: ctx.connectionOptions,
    });
    this.#track(conn, pipe, pipe.ends[1]);
    ctx.onInbound(conn);
  }

  /** `conn` runs on `end` of `pipe`: when it closes, its end closes (the peer reads the end of the data). */
  #track(conn: Connection, pipe: Pipe, end: MemoryDuplex): void {
    this.#counters.set(conn, pipe.counter);
    // After what is still delayed on the way (see `latency`).
    conn.closed.then(() => setTimeout(() => this.#closeEnd(pipe, end), this.#latency && this.#latency + 5));
  }

  #closeEnd(pipe: Pipe, end: MemoryDuplex): void {
    end.close();
    if (pipe.ends.every((e) => e.isClosed)) { for (const owner of pipe.owners) owner.#pipes.delete(pipe); }
  }

  /** Count and (optionally) delay what is written on `end`. */
  #wrap(end: MemoryDuplex, pipe: Pipe): RawDuplex {
    const count = (n: number) => {
      pipe.counter.bytes += n;
      for (const owner of pipe.owners) owner.total.bytes += n;
    };
    if (this.#latency === 0) {
      return {
        read: () => end.read(),
        write: (chunk) => {
          count(chunk.length);
          return end.write(chunk);
        },
        close: () => this.#closeEnd(pipe, end),
      };
    }
    const latency = this.#latency;
    let tail = Promise.resolve();
    return {
      read: () => end.read(),
      write: (chunk) => {
        count(chunk.length);
        const copy = chunk.slice();
        const due = Date.now() + latency;
        tail = tail.then(async () => {
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await end.write(copy);
        }).catch(() => {});
        return Promise.resolve();
      },
      close: () => {
        tail = tail.then(() => this.#closeEnd(pipe, end));
      },
    };
  }

  /** The link dies: both ends fail at once. */
  #cut(pipe: Pipe): void {
    for (const end of pipe.ends) end.close();
    for (const owner of pipe.owners) owner.#pipes.delete(pipe);
  }

  /** Cut every pipe of this transport (both ends see the link die) and refuse new ones until `revive()`. */
  kill(): void {
    this.#down = true;
    for (const pipe of [...this.#pipes]) this.#cut(pipe);
  }

  /** Accept and make connections again after `kill()`. */
  revive(): void {
    this.#down = false;
  }

  close(): Promise<void> {
    if (this.#ctx) this.#board.unregister(this.kind, this.#ctx.localId);
    this.kill();
    return Promise.resolve();
  }
}
