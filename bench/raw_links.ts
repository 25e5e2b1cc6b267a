/**
 * The raw-socket baselines of the benches: a raw `Deno.QuicEndpoint`
 * listener (ALPN `bench-raw`, the pinned self-signed certificate of a
 * node key) and a raw `Deno.listen` TCP listener, plus the client side of
 * both. No Macula layer is involved: these are what our links and the
 * content transfer are compared with.
 *
 * On a raw stream (QUIC) or connection (TCP) the first byte chooses the
 * mode:
 *
 * - `e` echo: copy everything back until EOF;
 * - `s` sink: count bytes until EOF, then answer the count as 8 bytes
 *   big-endian;
 * - `g` source: read an 8-byte big-endian count, send that many bytes in
 *   64 KiB writes, then close.
 *
 * A raw TCP connection closed before its first byte is a connect-only
 * probe. Used by `links_server.ts` / `links_bench.ts` and
 * `content_process.ts` / `content_bench.ts`.
 *
 * @module
 */
import type { KeyPair } from "../src/identity/ed25519.ts";
import type { NodeId } from "../src/identity/node-id.ts";
import { serverNameFor, tlsIdentity, trustAnchor } from "../src/secure/certificate.ts";

export const RAW_ALPN = "bench-raw";
export const MODE_ECHO = 0x65; // "e"
export const MODE_SINK = 0x73; // "s"
export const MODE_SOURCE = 0x67; // "g"
const CHUNK = 64 * 1024;

/** Bytes a source sends: 64 KiB of random data, repeated. */
const pattern = crypto.getRandomValues(new Uint8Array(CHUNK));

/** `n` as 8 bytes big-endian. */
export function countBytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function readCount(bytes: Uint8Array, at = 0): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0));
}

/** A byte stream as the modes see it: chunked reads (`null` = EOF), whole writes, close of the sending side. */
interface RawIo {
  read(): Promise<Uint8Array | null>;
  write(data: Uint8Array): Promise<void>;
  closeWrite(): Promise<void>;
}

/** Collect at least `n` bytes (the first `n` of them, then what was read past them). */
async function readAtLeast(io: RawIo, first: Uint8Array, n: number): Promise<{ head: Uint8Array; rest: Uint8Array }> {
  let buffer = first;
  while (buffer.length < n) {
    const chunk = await io.read();
    if (chunk === null) throw new Error(`EOF after ${buffer.length} of ${n} bytes`);
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer);
    joined.set(chunk, buffer.length);
    buffer = joined;
  }
  return { head: buffer.subarray(0, n), rest: buffer.subarray(n) };
}

/** Serve one raw stream: the mode byte, then echo, sink or source. */
async function serveRaw(io: RawIo): Promise<void> {
  const first = await io.read();
  if (first === null || first.length === 0) return await io.closeWrite();
  const mode = first[0];
  const rest = first.subarray(1);
  if (mode === MODE_ECHO) {
    if (rest.length > 0) await io.write(rest);
    for (let chunk = await io.read(); chunk !== null; chunk = await io.read()) await io.write(chunk);
  } else if (mode === MODE_SOURCE) {
    const { head } = await readAtLeast(io, rest.slice(), 8); // a copy: a TCP read reuses its buffer
    const total = readCount(head);
    for (let sent = 0; sent < total; sent += CHUNK) await io.write(pattern.subarray(0, Math.min(CHUNK, total - sent)));
  } else {
    let n = rest.length;
    for (let chunk = await io.read(); chunk !== null; chunk = await io.read()) n += chunk.length;
    await io.write(countBytes(n));
  }
  await io.closeWrite();
}

function quicIo(stream: Deno.QuicBidirectionalStream): RawIo {
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  return {
    async read() {
      const { done, value } = await reader.read();
      return done ? null : value;
    },
    write: (data) => writer.write(data),
    closeWrite: () => writer.close(),
  };
}

function tcpIo(conn: Deno.TcpConn): RawIo {
  const buffer = new Uint8Array(CHUNK);
  return {
    async read() {
      const n = await conn.read(buffer);
      return n === null ? null : buffer.subarray(0, n);
    },
    async write(data) {
      let off = 0;
      while (off < data.length) off += await conn.write(data.subarray(off));
    },
    closeWrite: () => conn.closeWrite(),
  };
}

/** A running raw listener. */
export interface RawListener {
  readonly host: string;
  readonly port: number;
  close(): void;
}

/** Listen for raw QUIC on `host` (port 0), with the certificate of `keyPair`; every stream is served by mode. */
export function serveRawQuic(keyPair: KeyPair, host: string): RawListener {
  const tls = tlsIdentity(keyPair);
  const endpoint = new Deno.QuicEndpoint({ hostname: host, port: 0 });
  const listener = endpoint.listen({ alpnProtocols: [RAW_ALPN], cert: tls.cert, key: tls.key, maxIdleTimeout: 30_000 });
  const serveConnection = async (accepting: Deno.QuicConn | Promise<Deno.QuicConn>) => {
    const conn = await accepting;
    const incoming = conn.incomingBidirectionalStreams.getReader();
    while (true) {
      const { done, value } = await incoming.read();
      if (done) break;
      serveRaw(quicIo(value)).catch(() => {});
    }
  };
  (async () => {
    for await (const incoming of listener) {
      try {
        serveConnection(incoming.accept()).catch(() => {});
      } catch {
        // refused or gone
      }
    }
  })().catch(() => {});
  return { host, port: endpoint.addr.port, close: () => endpoint.close() };
}

/** Listen for raw TCP on `host` (port 0); every connection is served by mode. */
export function serveRawTcp(host: string): RawListener {
  const listener = Deno.listen({ hostname: host, port: 0, transport: "tcp" });
  const serveConnection = async (conn: Deno.TcpConn) => {
    try {
      conn.setNoDelay(true); // as the platform layer does for our TCP link
      await serveRaw(tcpIo(conn));
    } finally {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  (async () => {
    for await (const conn of listener) serveConnection(conn).catch(() => {});
  })().catch(() => {});
  return { host, port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

/** Options of `Deno.connectQuic` for a raw QUIC listener of node `serverId` (from a client endpoint on `host`). */
export function rawQuicOptions(
  endpoint: Deno.QuicEndpoint,
  server: { host: string; port: number },
  serverId: NodeId,
): Deno.ConnectQuicOptions<false> {
  return {
    endpoint,
    hostname: server.host,
    port: server.port,
    serverName: serverNameFor(serverId.bytes),
    alpnProtocols: [RAW_ALPN],
    caCerts: [trustAnchor(serverId.bytes)],
    maxIdleTimeout: 30_000,
  };
}

/** Ask a source for `total` bytes over `io` and read them all; the seconds from request to EOF. */
async function receive(io: RawIo, total: number): Promise<number> {
  const start = performance.now();
  const request = new Uint8Array(9);
  request[0] = MODE_SOURCE;
  request.set(countBytes(total), 1);
  await io.write(request);
  let got = 0;
  for (let chunk = await io.read(); chunk !== null; chunk = await io.read()) got += chunk.length;
  const seconds = (performance.now() - start) / 1000;
  if (got !== total) throw new Error(`raw source sent ${got} of ${total} bytes`);
  await io.closeWrite();
  return seconds;
}

/**
 * Receive `total` bytes from a raw QUIC source over one stream of a fresh
 * connection (connection setup not timed); the seconds it took.
 */
export async function receiveRawQuic(options: Deno.ConnectQuicOptions<false>, total: number): Promise<number> {
  const conn = await Deno.connectQuic(options);
  try {
    return await receive(quicIo(await conn.createBidirectionalStream()), total);
  } finally {
    conn.close({ closeCode: 0, reason: "" });
  }
}

/** Receive `total` bytes from a raw TCP source over a fresh connection (setup not timed); the seconds it took. */
export async function receiveRawTcp(server: { host: string; port: number }, total: number): Promise<number> {
  const conn = await Deno.connect({ hostname: server.host, port: server.port, transport: "tcp" });
  conn.setNoDelay(true);
  try {
    return await receive(tcpIo(conn), total);
  } finally {
    conn.close();
  }
}
