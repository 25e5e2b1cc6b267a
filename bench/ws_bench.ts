/**
 * The WebSocket link against TCP + Noise, both in this process on loopback:
 * 64-byte round trip on one stream (median over 1,000 samples per run) and
 * one-stream throughput (64 MiB, 64 KiB writes, the receiver acknowledges
 * the byte count), each the median of N runs (5, or 3 with `--quick`), the
 * two links interleaved within each run. Printed with the ratio ws / tcp.
 *
 * Run: `deno task bench:ws [--quick]`
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { NodeId } from "../src/identity/node-id.ts";
import { currentPlatform } from "../src/platform/current.ts";
import type { Connection, StreamHandler } from "../src/transport/connection.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import type { Transport, TransportContext } from "../src/transport/transport.ts";
import { WebSocketTransport } from "../src/transport/websocket.ts";

const QUICK = Deno.args.includes("--quick");
const RUNS = QUICK ? 3 : 5;
const ROUND_TRIPS = 1000;
const WARMUP = 100;
const TOTAL = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;
const ECHO = "/bench/echo/1";
const SINK = "/bench/sink/1";

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const handlers: Record<string, StreamHandler> = {
  [ECHO]: async (stream) => {
    for (let c = await stream.read(); c !== null; c = await stream.read()) await stream.write(c);
    await stream.closeWrite();
  },
  [SINK]: async (stream) => {
    let n = 0;
    for (let c = await stream.read(); c !== null; c = await stream.read()) n += c.length;
    await stream.write(new TextEncoder().encode(String(n)));
    await stream.closeWrite();
  },
};

function context(): TransportContext {
  const keyPair = KeyPair.generate();
  return {
    keyPair,
    localId: new NodeId(keyPair.publicKey),
    gate: (protocol) => handlers[protocol] ?? null,
    onInbound: () => {},
  };
}

async function pair(make: () => Transport): Promise<{ conn: Connection; close(): Promise<void> }> {
  const server = make();
  const client = make();
  const serverCtx = context();
  await server.start(serverCtx);
  await client.start(context());
  const conn = await client.dial(server.listenAddresses[0], serverCtx.localId);
  return {
    conn,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

async function roundTrip(conn: Connection): Promise<number> {
  const stream = await conn.openStream(ECHO);
  const message = crypto.getRandomValues(new Uint8Array(64));
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ROUND_TRIPS; i++) {
    const t0 = performance.now();
    await stream.write(message);
    let got = 0;
    while (got < message.length) got += (await stream.read())!.length;
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  await stream.closeWrite();
  return median(samples);
}

async function throughput(conn: Connection): Promise<number> {
  const stream = await conn.openStream(SINK);
  const t0 = performance.now();
  for (let sent = 0; sent < TOTAL; sent += CHUNK) await stream.write(new Uint8Array(CHUNK));
  await stream.closeWrite();
  let reply = "";
  for (let c = await stream.read(); c !== null; c = await stream.read()) reply += new TextDecoder().decode(c);
  if (Number(reply) !== TOTAL) throw new Error(`sink got ${reply} bytes, not ${TOTAL}`);
  return TOTAL / 1024 / 1024 / ((performance.now() - t0) / 1000);
}

const http = currentPlatform().http;
const links: Record<string, () => Transport> = {
  ws: () => new WebSocketTransport({ listen: { http, host: "127.0.0.1", port: 0 } }),
  tcp: () => new TcpTransport(currentPlatform().tcp, { host: "127.0.0.1", port: 0 }),
};
const rtt: Record<string, number[]> = { ws: [], tcp: [] };
const rate: Record<string, number[]> = { ws: [], tcp: [] };
for (let run = 0; run < RUNS; run++) {
  for (const [name, make] of Object.entries(links)) {
    const p = await pair(make);
    try {
      rtt[name].push(await roundTrip(p.conn));
      rate[name].push(await throughput(p.conn));
    } finally {
      await p.close();
    }
  }
}
const r = (name: string) => median(rtt[name]);
const t = (name: string) => median(rate[name]);
console.log(`ws vs tcp, loopback, one process, medians of ${RUNS} runs`);
console.log(
  `64 B round trip on one stream: ws ${(r("ws") * 1000).toFixed(0)} µs, tcp ${(r("tcp") * 1000).toFixed(0)} µs` +
    ` — ratio ws/tcp ${(r("ws") / r("tcp")).toFixed(2)}`,
);
console.log(
  `one-stream throughput (64 MiB): ws ${t("ws").toFixed(0)} MiB/s, tcp ${t("tcp").toFixed(0)} MiB/s` +
    ` — ratio ws/tcp ${(t("ws") / t("tcp")).toFixed(2)}`,
);
