/**
 * Test stand-in for a relay (until the relay service exists): a TCP
 * "splicer" on a public host joins two inbound TCP sockets, and
 * `SpliceTransport` runs the node's normal secure session (Noise XX + mux,
 * pinned to the peer's id) end to end over that pipe, marked
 * `route: "relayed"`. The splicer only forwards bytes (it never sees
 * plaintext), as a relay circuit would.
 *
 * Splicer protocol: a client's first line is `L <hex id>` (wait for a
 * dialer of that id; the splicer writes one byte `\x01` when one arrives)
 * or `D <hex id>` (join the waiting listener of that id; refused by closing
 * when none waits). Then bytes flow both ways until either side closes.
 *
 * Addresses: `splice://host:port` (the splicer); the dialed id comes from
 * the expected peer id.
 */
import type { NodeId } from "../../src/identity/node-id.ts";
import { formatAddress, type PeerAddress } from "../../src/transport/address.ts";
import type { Connection } from "../../src/transport/connection.ts";
import { DialError } from "../../src/transport/errors.ts";
import { secureConnection } from "../../src/transport/secure-session.ts";
import type { DialOptions, Transport, TransportContext } from "../../src/transport/transport.ts";
import type { RawDuplex } from "../../src/secure/secure-channel.ts";

const enc = new TextEncoder();

async function readLine(conn: Deno.TcpConn): Promise<{ line: string; rest: Uint8Array } | null> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(256);
  while (buf.length < 200) {
    const n = await conn.read(chunk);
    if (n === null) return null;
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
    const nl = buf.indexOf(10);
    if (nl >= 0) return { line: new TextDecoder().decode(buf.subarray(0, nl)), rest: buf.slice(nl + 1) };
  }
  return null;
}

async function pump(from: Deno.TcpConn, to: Deno.TcpConn, counter: { bytes: number }): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      counter.bytes += n;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch {
    // either side went away
  }
  try {
    to.close();
  } catch { /* closed */ }
  try {
    from.close();
  } catch { /* closed */ }
}

/** A running splicer. */
export interface Splicer {
  addr: { hostname: string; port: number };
  /** Bytes forwarded so far (both directions). */
  readonly bytes: number;
  close(): void;
}

/** Start a splicer on `hostname:port`. */
export function startSplicer(hostname: string, port = 0): Splicer {
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  const waiting = new Map<string, Deno.TcpConn>();
  const open = new Set<Deno.TcpConn>();
  const counter = { bytes: 0 };
  (async () => {
    for await (const conn of listener) {
      open.add(conn);
      (async () => {
        const first = await readLine(conn).catch(() => null);
        const m = first && /^([LD]) ([0-9a-f]{64})$/.exec(first.line);
        if (!m) return conn.close();
        if (m[1] === "L") {
          waiting.get(m[2])?.close();
          waiting.set(m[2], conn);
          return;
        }
        const peer = waiting.get(m[2]);
        waiting.delete(m[2]);
        if (!peer) return conn.close();
        try {
          await peer.write(Uint8Array.of(1));
          if (first.rest.length) await peer.write(first.rest);
        } catch {
          return conn.close();
        }
        pump(conn, peer, counter);
        pump(peer, conn, counter);
      })().catch(() => {});
    }
  })().catch(() => {});
  const { hostname: h, port: p } = listener.addr as Deno.NetAddr;
  return {
    addr: { hostname: h, port: p },
    get bytes() {
      return counter.bytes;
    },
    close() {
      try {
        listener.close();
      } catch { /* closed */ }
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

function duplex(conn: Deno.TcpConn, first?: Uint8Array): RawDuplex {
  let pending = first?.length ? first : undefined;
  return {
    async read() {
      if (pending) {
        const p = pending;
        pending = undefined;
        return p;
      }
      const buf = new Uint8Array(64 * 1024);
      const n = await conn.read(buf);
      return n === null ? null : buf.subarray(0, n);
    },
    async write(chunk: Uint8Array) {
      let off = 0;
      while (off < chunk.length) off += await conn.write(chunk.subarray(off));
    },
    close() {
      try {
        conn.close();
      } catch { /* closed */ }
    },
  };
}

/**
 * A transport that reaches peers through a splicer (`splice://host:port`)
 * and, once started, waits there for dialers of its own id (if given
 * `listenAt`).
 */
export class SpliceTransport implements Transport {
  readonly kind = "splice";
  #ctx?: TransportContext;
  #listenAt?: { hostname: string; port: number };
  #closed = false;
  #live = new Set<Connection>();
  #waiting?: Deno.TcpConn;

  constructor(listenAt?: { hostname: string; port: number }) {
    this.#listenAt = listenAt;
  }

  get listenAddresses(): PeerAddress[] {
    return [];
  }

  canDial(address: PeerAddress): boolean {
    return address.type === "direct" && address.kind === "splice";
  }

  start(ctx: TransportContext): Promise<void> {
    this.#ctx = ctx;
    if (this.#listenAt) this.#listen();
    return Promise.resolve();
  }

  #track(conn: Connection): Connection {
    this.#live.add(conn);
    conn.closed.then(() => this.#live.delete(conn));
    return conn;
  }

  async #listen(): Promise<void> {
    const ctx = this.#ctx!;
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({ ...this.#listenAt!, transport: "tcp" });
        this.#waiting = conn;
        await conn.write(enc.encode(`L ${ctx.localId.hex}\n`));
        const one = new Uint8Array(1);
        if ((await conn.read(one)) === null) throw new Error("splicer closed");
      } catch {
        if (this.#closed) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const remote = `${this.#listenAt!.hostname}:${this.#listenAt!.port}`;
      secureConnection(duplex(conn), {
        role: "responder",
        keyPair: ctx.keyPair,
        kind: this.kind,
        route: "relayed",
        remoteAddress: remote,
        gate: ctx.gate,
        connectionOptions: ctx.connectionOptions,
      }).then((c) => ctx.onInbound(this.#track(c)), () => conn.close());
    }
  }

  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    if (address.type !== "direct" || address.kind !== "splice" || !this.#ctx) {
      throw new DialError(`cannot dial ${formatAddress(address)}`);
    }
    const ctx = this.#ctx;
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: address.host, port: address.port, transport: "tcp" });
      await conn.write(enc.encode(`D ${expected.hex}\n`));
    } catch (error) {
      throw new DialError(`splice dial failed: ${(error as Error).message}`);
    }
    try {
      return this.#track(
        await secureConnection(duplex(conn), {
          role: "initiator",
          keyPair: ctx.keyPair,
          expected,
          kind: this.kind,
          route: "relayed",
          remoteAddress: `${address.host}:${address.port}`,
          handshakeTimeout: options.timeout,
          gate: ctx.gate,
          connectionOptions: ctx.connectionOptions,
        }),
      );
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    try {
      this.#waiting?.close();
    } catch { /* closed */ }
    for (const c of this.#live) c.close("shutting down");
    return Promise.resolve();
  }
}
