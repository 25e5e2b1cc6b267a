/**
 * The receiving side of `links_bench.ts`, run as a separate process so that
 * sender and receiver do not share one JS thread. It listens on 127.0.0.1 for:
 *
 * - our QUIC and TCP + Noise transports, with a handler table of two
 *   protocols: `/bench/echo/1` (copy everything back) and `/bench/sink/1`
 *   (count bytes until EOF, then answer the count as 8 bytes big-endian);
 * - a raw `Deno.QuicEndpoint` listener (ALPN `bench-raw`, the same pinned
 *   self-signed certificate) and a raw `Deno.listen` TCP listener
 *   (`raw_links.ts`). On a raw stream the first byte chooses the mode: `e`
 *   echo, `s` sink. A raw TCP connection closed before that byte is a
 *   connect-only probe.
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
import type { StreamHandler } from "../src/transport/connection.ts";
import { QuicTransport } from "../src/transport/quic.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import type { TransportContext } from "../src/transport/transport.ts";
import { countBytes, serveRawQuic, serveRawTcp } from "./raw_links.ts";

export const ECHO_PROTOCOL = "/bench/echo/1";
export const SINK_PROTOCOL = "/bench/sink/1";

/** What the server prints on its first stdout line. */
export interface ServerInfo {
  id: string;
  quic: { host: string; port: number };
  tcp: { host: string; port: number };
  rawQuic: { host: string; port: number };
  rawTcp: { host: string; port: number };
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

  const rawQuic = serveRawQuic(keyPair, host);
  const rawTcp = serveRawTcp(host);

  const info: ServerInfo = {
    id: ctx.localId.did,
    quic: { host, port: (quic.listenAddresses[0] as DirectAddress).port },
    tcp: { host, port: (tcp.listenAddresses[0] as DirectAddress).port },
    rawQuic: { host, port: rawQuic.port },
    rawTcp: { host, port: rawTcp.port },
  };
  console.log(JSON.stringify(info));

  // Serve until the bench closes our stdin (it also kills us at the end).
  for await (const _ of Deno.stdin.readable) {
    // discard
  }
  Deno.exit(0);
}
