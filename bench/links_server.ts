/**
 * The receiving side of `links_bench.ts`, run as a separate process so that
 * sender and receiver do not share one JS thread. It listens on 127.0.0.1 for:
 *
 * - our QUIC and TCP + Noise transports, with a handler table of two
 *   protocols: `/bench/echo/1` (copy everything back) and `/bench/sink/1`
 *   (count bytes until EOF, then answer the count as 8 bytes big-endian);
 * - a raw `Deno.QuicEndpoint` listener (ALPN `bench-raw`, the same pinned
 *   self-signed certificate) and a raw `Deno.listen` TCP listener. On a raw
 *   stream the first byte chooses the mode: `e` echo, `s` sink. A raw TCP
 *   connection closed before that byte is a connect-only probe.
 *
 * It prints one JSON line with its addresses and node id on stdout, then
 * serves until its stdin closes (or it is killed).
 *
 * Run by `links_bench.ts`; standalone:
 * `deno run --allow-net --unstable-net bench/links_server.ts`
 *
 * @module
 */
import type { DirectAddress } from "../src/transport/address.ts";
import { KeyPair } from "../src/identity/ed25519.ts";
import { NodeId } from "../src/identity/node-id.ts";
import { currentPlatform } from "../src/platform/current.ts";
import { tlsIdentity } from "../src/secure/certificate.ts";
import type { StreamHandler } from "../src/transport/connection.ts";
import { QuicTransport } from "../src/transport/quic.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import type { TransportContext } from "../src/transport/transport.ts";

export const ECHO_PROTOCOL = "/bench/echo/1";
export const SINK_PROTOCOL = "/bench/sink/1";
export const RAW_ALPN = "bench-raw";
export const MODE_ECHO = 0x65; // "e"
export const MODE_SINK = 0x73; // "s"

/** What the server prints on its first stdout line. */
export interface ServerInfo {
  id: string;
  quic: { host: string; port: number };
  tcp: { host: string; port: number };
  rawQuic: { host: string; port: number };
  rawTcp: { host: string; port: number };
}

function countBytes(n: number): Uint8Array {
  const ack = new Uint8Array(8);
  new DataView(ack.buffer).setBigUint64(0, BigInt(n));
  return ack;
}

const echo: StreamHandler = async (stream) => {
  while (true) {
    const chunk = await stream.read();
    if (chunk === null) break;
    await stream.write(chunk);
  }
  await stream.closeWrite();
};

const sink: StreamHandler = async (stream) => {
  let n = 0;
  while (true) {
    const chunk = await stream.read();
    if (chunk === null) break;
    n += chunk.length;
  }
  await stream.write(countBytes(n));
  await stream.closeWrite();
};

async function rawQuicStream(stream: Deno.QuicBidirectionalStream): Promise<void> {
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  const first = await reader.read();
  if (first.done || first.value.length === 0) return void await writer.close();
  const mode = first.value[0];
  const rest = first.value.subarray(1);
  if (mode === MODE_ECHO) {
    if (rest.length > 0) await writer.write(rest);
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await writer.close();
  } else {
    let n = rest.length;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
    }
    await writer.write(countBytes(n));
    await writer.close();
  }
}

async function rawQuicConnection(accepting: Deno.QuicConn | Promise<Deno.QuicConn>): Promise<void> {
  const conn = await accepting;
  const incoming = conn.incomingBidirectionalStreams.getReader();
  while (true) {
    const { done, value } = await incoming.read();
    if (done) break;
    rawQuicStream(value).catch(() => {});
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

async function rawTcpConnection(conn: Deno.TcpConn): Promise<void> {
  try {
    conn.setNoDelay(true);
    const buffer = new Uint8Array(64 * 1024);
    let got = await conn.read(buffer);
    if (got === null || got === 0) return;
    const mode = buffer[0];
    if (mode === MODE_ECHO) {
      if (got > 1) await writeAll(conn, buffer.subarray(1, got));
      while ((got = await conn.read(buffer)) !== null) await writeAll(conn, buffer.subarray(0, got));
    } else {
      let n = got - 1;
      while ((got = await conn.read(buffer)) !== null) n += got;
      await writeAll(conn, countBytes(n));
    }
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

if (import.meta.main) {
  const host = "127.0.0.1";
  const keyPair = KeyPair.generate();
  const handlers = new Map<string, StreamHandler>([[ECHO_PROTOCOL, echo], [SINK_PROTOCOL, sink]]);
  const ctx: TransportContext = {
    keyPair,
    localId: new NodeId(keyPair.publicKey),
    gate: (protocol) => handlers.get(protocol) ?? null,
    // The transport keeps each connection until it closes; nothing else to do.
    onInbound() {},
    onHandshakeError(error, remote) {
      console.error(`links_server: handshake from ${remote} failed: ${error.message}`);
    },
  };
  const platform = currentPlatform();
  const quic = new QuicTransport(platform.quic!, { host, port: 0 });
  const tcp = new TcpTransport(platform.tcp, { host, port: 0 });
  await quic.start(ctx);
  await tcp.start(ctx);

  const tls = tlsIdentity(keyPair);
  const rawEndpoint = new Deno.QuicEndpoint({ hostname: host, port: 0 });
  const rawListener = rawEndpoint.listen({
    alpnProtocols: [RAW_ALPN],
    cert: tls.cert,
    key: tls.key,
    maxIdleTimeout: 30_000,
  });
  (async () => {
    for await (const incoming of rawListener) {
      try {
        rawQuicConnection(incoming.accept()).catch(() => {});
      } catch {
        // refused or gone
      }
    }
  })().catch(() => {});

  const rawTcp = Deno.listen({ hostname: host, port: 0, transport: "tcp" });
  (async () => {
    for await (const conn of rawTcp) rawTcpConnection(conn).catch(() => {});
  })().catch(() => {});

  const info: ServerInfo = {
    id: ctx.localId.did,
    quic: { host, port: (quic.listenAddresses[0] as DirectAddress).port },
    tcp: { host, port: (tcp.listenAddresses[0] as DirectAddress).port },
    rawQuic: { host, port: rawEndpoint.addr.port },
    rawTcp: { host, port: (rawTcp.addr as Deno.NetAddr).port },
  };
  console.log(JSON.stringify(info));

  // Serve until the bench closes our stdin (it also kills us at the end).
  for await (const _ of Deno.stdin.readable) {
    // discard
  }
  Deno.exit(0);
}
