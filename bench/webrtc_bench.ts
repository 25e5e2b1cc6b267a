/**
 * WebRTC benchmark, same run, medians:
 *
 * - 64 B round trip (sequential echo) over our WebRTC connection (data
 *   channel + Noise + mux, a stream of `/bench/echo/1`), over a raw
 *   node-datachannel data channel (no Noise, no mux), and over our TCP
 *   connection (loopback, Noise + mux) between the same kind of nodes;
 * - one-stream throughput (32 MiB) over our WebRTC and our TCP connection;
 * - time to join a ring: 3 members behind one gateway (they reach each
 *   other only through its relay), from `join` until every pair has its
 *   WebRTC connection (signaled through the mesh), and the time for one
 *   WebRTC connection alone (signaling over an open link + ICE + Noise).
 *
 * Run: `deno task bench:webrtc` (add `--quick` for fewer samples).
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { Node } from "../src/api/node.ts";
import type { Stream } from "../src/transport/connection.ts";
import { loadNodeWebRtc } from "../src/platform/webrtc.ts";
import type { RtcDataChannel, RtcPeerConnection, RtcPeerConnectionClass } from "../src/transport/webrtc-channel.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import { rtcNode } from "../tests/helpers/webrtc.ts";
import { gatewayNode, memberNode } from "../tests/rings/ring_helpers.ts";

const QUICK = Deno.args.includes("--quick");
const ROUND_TRIPS = QUICK ? 300 : 2_000;
const JOINS = QUICK ? 3 : 7;
const PAYLOAD = new Uint8Array(64).fill(42);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

async function echo(s: Stream) {
  for (let f = await s.readFrame(); f; f = await s.readFrame()) await s.writeFrame(f);
  await s.closeWrite();
}

async function streamRoundTrips(s: Stream): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ROUND_TRIPS + 50; i++) {
    const t = performance.now();
    await s.writeFrame(PAYLOAD);
    await s.readFrame();
    if (i >= 50) out.push(performance.now() - t);
  }
  return out;
}

const BULK = (QUICK ? 8 : 32) << 20;

async function sink(s: Stream) {
  while (await s.read()) { /* drain */ }
  await s.closeWrite();
}

/** One-stream throughput over `conn`, MB/s. */
async function bulk(conn: { openStream(p: string): Promise<Stream> }): Promise<number> {
  const s = await conn.openStream("/bench/sink/1");
  const chunk = new Uint8Array(256 * 1024).fill(1);
  const t = performance.now();
  for (let sent = 0; sent < BULK; sent += chunk.length) await s.write(chunk);
  await s.closeWrite();
  await s.read();
  return BULK / 1e3 / (performance.now() - t);
}

async function ourWebRtc(): Promise<{ rtt: number[]; connect: number[]; mbps: number }> {
  const network = new MemoryNetwork();
  const a = await rtcNode(network);
  const b = await rtcNode(network);
  try {
    b.node.handle("/bench/echo/1", echo);
    b.node.handle("/bench/sink/1", sink);
    await a.node.connect(b.node.addrs[0]);
    const connect: number[] = [];
    let conn;
    for (let i = 0; i < JOINS; i++) {
      const t = performance.now();
      conn = await a.service.connect(b.node.id);
      connect.push(performance.now() - t);
      if (i < JOINS - 1) {
        conn.close("again");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const s = await conn!.openStream("/bench/echo/1");
    const rtt = await streamRoundTrips(s);
    await s.closeWrite();
    return { rtt, connect, mbps: await bulk(conn!) };
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
}

async function rawChannel(): Promise<number[]> {
  const rtc = await loadNodeWebRtc();
  const PC = rtc.RTCPeerConnection as RtcPeerConnectionClass;
  const a: RtcPeerConnection = new PC();
  const b: RtcPeerConnection = new PC();
  try {
    const qa: unknown[] = [], qb: unknown[] = [];
    a.addEventListener("icecandidate", (e) => e.candidate && qa.push(e.candidate));
    b.addEventListener("icecandidate", (e) => e.candidate && qb.push(e.candidate));
    const ch = a.createDataChannel("raw", { ordered: true });
    ch.binaryType = "arraybuffer";
    const opened = new Promise((r) => ch.addEventListener("open", r));
    const remote = new Promise<RtcDataChannel>((r) => b.addEventListener("datachannel", (e) => r(e.channel!)));
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(a.localDescription!);
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(b.localDescription!);
    for (const c of qa) await b.addIceCandidate(c as never);
    for (const c of qb) await a.addIceCandidate(c as never);
    await opened;
    const rc = await remote;
    rc.binaryType = "arraybuffer";
    rc.addEventListener("message", (e) => rc.send(new Uint8Array(e.data as ArrayBuffer)));
    let waiter: (() => void) | null = null;
    ch.addEventListener("message", () => waiter?.());
    const out: number[] = [];
    for (let i = 0; i < ROUND_TRIPS + 50; i++) {
      const t = performance.now();
      const got = new Promise<void>((r) => waiter = r);
      ch.send(PAYLOAD);
      await got;
      if (i >= 50) out.push(performance.now() - t);
    }
    return out;
  } finally {
    a.close();
    b.close();
    await new Promise((r) => setTimeout(r, 100));
    rtc.release();
  }
}

async function ourTcp(): Promise<{ rtt: number[]; mbps: number }> {
  const start = () =>
    Node.start({
      keyPair: KeyPair.generate(),
      host: "127.0.0.1",
      port: 0,
      transports: ["tcp"],
      logger: Logger.silent(),
      nat: false,
      punch: false,
    });
  const a = await start();
  const b = await start();
  try {
    b.handle("/bench/echo/1", echo);
    b.handle("/bench/sink/1", sink);
    const conn = await a.connect(b.addrs.find((x) => x.startsWith("tcp://"))!);
    const s = await conn.openStream("/bench/echo/1");
    const rtt = await streamRoundTrips(s);
    await s.closeWrite();
    return { rtt, mbps: await bulk(conn) };
  } finally {
    await a.stop();
    await b.stop();
  }
}

async function ringJoin(): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const network = new MemoryNetwork();
    const gw = await gatewayNode(network);
    const members = [];
    try {
      for (let k = 0; k < 3; k++) members.push(await memberNode(network, gw, { presenceInterval: 1_000 }));
      const t = performance.now();
      const rings = members.map((m) => m.node.rings.join("bench"));
      await Promise.all(rings.map((r) => r.ready(2, { signal: AbortSignal.timeout(20_000) })));
      out.push(performance.now() - t);
    } finally {
      for (const m of members) await m.node.stop();
      await gw.stop();
    }
  }
  return out;
}

const hold = await loadNodeWebRtc(); // one node-datachannel setup for the whole run
try {
  const webrtc = await ourWebRtc();
  const raw = await rawChannel();
  const tcp = await ourTcp();
  const join = await ringJoin();
  console.log(`64 B round trip, median of ${ROUND_TRIPS} (same run):`);
  console.log(`  our webrtc connection (data channel + Noise + mux): ${fmt(median(webrtc.rtt))}`);
  console.log(`  raw node-datachannel data channel:                  ${fmt(median(raw))}`);
  console.log(`  our tcp connection (loopback, Noise + mux):         ${fmt(median(tcp.rtt))}`);
  console.log(
    `one-stream throughput, ${BULK >> 20} MiB: our webrtc ${webrtc.mbps.toFixed(1)} MB/s, our tcp ${
      tcp.mbps.toFixed(1)
    } MB/s`,
  );
  console.log(
    `WebRTC connection over an open link (signaling + ICE + Noise), median of ${JOINS}: ${
      median(webrtc.connect).toFixed(0)
    } ms`,
  );
  console.log(
    `time to join a ring (3 members behind a gateway, all pairs connected), median of ${JOINS}: ${
      median(join).toFixed(0)
    } ms`,
  );
} finally {
  hold.release();
}
