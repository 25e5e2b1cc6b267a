/**
 * The WebRTC link under Deno with node-datachannel: two real nodes joined by
 * an in-memory link signal over it (`/macula/webrtc/1`), open a data
 * channel, and run Noise + mux over it; streams carry data both ways; a
 * wrong id is refused; bad signaling input is a typed error and the node
 * keeps going.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { MemoryNetwork, until } from "../helpers/nodes.ts";
import { releaseRtc, rtcMissing, rtcNode } from "../helpers/webrtc.ts";
import { webrtcAddress } from "../../src/transport/webrtc.ts";
import { WEBRTC_PROTOCOL } from "../../src/transport/webrtc-messages.ts";
import { DialError, PeerIdMismatchError } from "../../src/transport/errors.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import type { SignalMessage } from "../../src/transport/webrtc-messages.ts";
import type { RtcPeerConnectionClass } from "../../src/transport/webrtc-channel.ts";
import { chromiumMissing, openBrowser } from "../helpers/console_browser.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: !!rtcMissing };

Deno.test("webrtc: two nodes signal over an in-memory link; streams carry data both ways", opts, async () => {
  const network = new MemoryNetwork();
  const a = await rtcNode(network);
  const b = await rtcNode(network);
  try {
    a.node.handle("/test/echo/1", async (s) => {
      for (let f = await s.readFrame(); f; f = await s.readFrame()) await s.writeFrame(f);
      await s.closeWrite();
    });
    b.node.handle("/test/echo/1", async (s) => {
      for (let f = await s.readFrame(); f; f = await s.readFrame()) await s.writeFrame(f);
      await s.closeWrite();
    });
    await a.node.connect(b.node.addrs[0]);
    const t0 = performance.now();
    const conn = await a.service.connect(b.node.id);
    const ms = performance.now() - t0;
    console.log(`webrtc connection (signaling over memory + ICE + Noise) in ${ms.toFixed(0)} ms`);
    assertEquals(conn.transport, "webrtc");
    assertEquals(conn.route, "direct");
    assert(conn.remoteId.equals(b.node.id));
    await until(() => !!b.rtc.connection(a.node.id), 5000, "b sees the connection");
    const back = b.rtc.connection(a.node.id)!;
    assertEquals(back.transport, "webrtc");
    // a → b, with a large payload crossing many data-channel messages
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const s1 = await conn.openStream("/test/echo/1");
    await s1.writeFrame(big, 1 << 20);
    const echoed = await s1.readFrame(1 << 20);
    assertEquals(echoed?.length, big.length);
    assert(echoed!.every((v, i) => v === big[i]));
    await s1.closeWrite();
    // b → a, on the same connection
    const s2 = await back.openStream("/test/echo/1");
    await s2.writeFrame(new TextEncoder().encode("hello a"));
    assertEquals(new TextDecoder().decode((await s2.readFrame())!), "hello a");
    await s2.closeWrite();
    // The nodes already hold a direct (memory) connection: the WebRTC one stays out of their tables.
    assertEquals(a.node.connection(b.node.id)?.transport, "memory");
    // Dialing the webrtc address again gives the open connection.
    assert((await a.node.connect(b.node.id)) !== undefined);
    assertEquals(await a.rtc.dial(webrtcAddress(b.node.id), b.node.id), conn);
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
});

Deno.test("webrtc: a peer proving another id is refused (PeerIdMismatchError)", opts, async () => {
  const network = new MemoryNetwork();
  const a = await rtcNode(network);
  const b = await rtcNode(network);
  const c = await rtcNode(network);
  try {
    await a.node.connect(b.node.addrs[0]);
    // A signaling path that lies: the offer meant for C goes to B.
    const real = b.node.id;
    a.rtc.setSignaler(async (_peer, signal) => {
      const { streamChannel } = await import("../../src/webrtc/webrtc-service.ts");
      const conn = a.node.connection(real)!;
      return streamChannel(await conn.openStream(WEBRTC_PROTOCOL, { signal }));
    });
    await assertRejects(() => a.rtc.dial(webrtcAddress(c.node.id), c.node.id), PeerIdMismatchError);
    assertEquals(a.rtc.connection(c.node.id), undefined);
    assertEquals(a.rtc.connection(real), undefined);
    assert((a.rtc.counts.failures["E_PEER_ID_MISMATCH"] ?? 0) >= 1);
    // A webrtc address with no way to signal (C knows nothing of B) fails at once, as a DialError.
    const t0 = performance.now();
    await assertRejects(() => c.node.connect(`webrtc://p2p/${b.node.id.did}`), DialError, "no signaling path");
    assert(performance.now() - t0 < 2_000, "no wait for a deadline");
  } finally {
    await a.node.stop();
    await b.node.stop();
    await c.node.stop();
  }
});

Deno.test("webrtc: bad signaling input is refused and the node keeps going", opts, async () => {
  const network = new MemoryNetwork();
  const a = await rtcNode(network);
  const b = await rtcNode(network);
  try {
    const conn = await a.node.connect(b.node.addrs[0]);
    const bad: Uint8Array[] = [
      new Uint8Array([0xff, 0x00]), // not CBOR
      encodeCbor({ t: "answer", sdp: "v=0\r\n" }), // an answer to nobody
      encodeCbor({ t: "offer", sdp: "not sdp" }),
      encodeCbor({ t: "cand", c: "candidate:1 1 UDP 1 192.0.2.1 1 typ host" }), // candidate before the offer
      encodeCbor({ t: "offer" }), // missing sdp
      encodeCbor({ t: "offer", sdp: "v=0\r\nthis is no session description\r\n" }),
    ];
    for (const frame of bad) {
      const s = await conn.openStream(WEBRTC_PROTOCOL);
      await s.writeFrame(frame).catch(() => {});
      assertEquals(await s.readFrame().catch(() => null), null, "the stream ends, no answer");
    }
    await until(() => Object.values(b.rtc.counts.failures).reduce((x, y) => x + y, 0) >= bad.length, 5000, "failures");
    assert((b.rtc.counts.failures["E_WIRE_INVALID"] ?? 0) >= 4, JSON.stringify(b.rtc.counts.failures));
    // still works
    const rtc = await a.service.connect(b.node.id);
    assertEquals(rtc.transport, "webrtc");
    const metrics = b.node.metrics.registry.render();
    assert(metrics.includes("macula_webrtc_failures_total"), "failures counted in metrics");
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
});

Deno.test("webrtc: 16 MiB one way completes (writes wait on bufferedAmount)", opts, async () => {
  const network = new MemoryNetwork();
  const a = await rtcNode(network);
  const b = await rtcNode(network);
  try {
    let got = 0;
    b.node.handle("/test/sink/1", async (s) => {
      for (let c = await s.read(); c; c = await s.read()) got += c.length;
      await s.closeWrite();
    });
    await a.node.connect(b.node.addrs[0]);
    const conn = await a.service.connect(b.node.id);
    const s = await conn.openStream("/test/sink/1");
    const chunk = new Uint8Array(256 * 1024).fill(1);
    const total = 16 * 1024 * 1024;
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += chunk.length) await s.write(chunk);
    await s.closeWrite();
    await s.read(); // the sink's end
    const ms = performance.now() - t0;
    assertEquals(got, total);
    console.log(`16 MiB over our webrtc connection in ${ms.toFixed(0)} ms (${(total / 1e3 / ms).toFixed(1)} MB/s)`);
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
});

Deno.test("webrtc: a silent peer times out; negotiations over the limit are refused", opts, async () => {
  const network = new MemoryNetwork();
  const { rtcTransport } = await import("../helpers/webrtc.ts");
  const rtc = await rtcTransport({ timeout: 300, maxPending: 1 });
  const { node } = await rtcNode(network, {}, () => []);
  const { KeyPair } = await import("../../src/identity/ed25519.ts");
  const { NodeId } = await import("../../src/identity/node-id.ts");
  const { TimeoutError } = await import("../../src/util/async.ts");
  const { LimitError } = await import("../../src/transport/errors.ts");
  const kp = KeyPair.generate();
  await rtc.start({
    keyPair: kp,
    localId: new NodeId(kp.publicKey),
    gate: () => null,
    onInbound: (c) => c.close("unused"),
  });
  try {
    const sent: string[] = [];
    rtc.setSignaler(() =>
      Promise.resolve({
        send: (m) => Promise.resolve(void sent.push(m.t)),
        receive: () => new Promise(() => {}), // never answers
        close: () => {},
      })
    );
    const target = node.id;
    const first = rtc.dial(webrtcAddress(target), target);
    await assertRejects(() => rtc.dial(webrtcAddress(new NodeId(KeyPair.generate().publicKey)), target), Error);
    const other = new NodeId(KeyPair.generate().publicKey);
    await assertRejects(() => rtc.dial(webrtcAddress(other), other), LimitError);
    await assertRejects(() => first, TimeoutError);
    assert(sent.includes("offer"), "the offer went out");
    assertEquals(rtc.counts.failures["E_TIMEOUT"], 1);
    assertEquals(rtc.counts.failures["E_LIMIT"], 1);
  } finally {
    await rtc.close();
    await node.stop();
  }
});

const chromium = chromiumMissing();
if (chromium) console.log(`webrtc browser interop ignored: ${chromium}`);

Deno.test(
  "webrtc: Chromium's native RTCPeerConnection negotiates with ours (node-datachannel) and the channel echoes",
  { ...opts, ignore: opts.ignore || !!chromium },
  async () => {
    const { loadNodeWebRtc } = await import("../../src/platform/webrtc.ts");
    const { negotiate } = await import("../../src/transport/webrtc-negotiate.ts");
    const { decodeSignal, encodeSignal } = await import("../../src/transport/webrtc-messages.ts");
    const rtc = await loadNodeWebRtc();
    const browser = await openBrowser();
    const toPage: SignalMessage[] = [];
    const fromPage: SignalMessage[] = [];
    let wake: (() => void) | null = null;
    let pumping = true;
    try {
      const page = await browser.newPage();
      await page.goto("about:blank");
      // What the page signals goes through our decoder, as from any peer.
      await page.exposeFunction("signalOut", (m: SignalMessage) => {
        fromPage.push(decodeSignal(encodeSignal(m)));
        wake?.();
      });
      await page.evaluate(() => {
        const g = globalThis as unknown as Record<string, unknown>;
        const out = (m: unknown) => (g.signalOut as (m: unknown) => void)(m);
        const PC = (globalThis as unknown as { RTCPeerConnection: RtcPeerConnectionClass }).RTCPeerConnection;
        const pc = new PC();
        pc.addEventListener("icecandidate", (e) => {
          const c = e.candidate;
          out(
            c?.candidate
              ? { t: "cand", c: c.candidate, m: c.sdpMid ?? undefined, i: c.sdpMLineIndex ?? undefined }
              : { t: "end" },
          );
        });
        pc.addEventListener("datachannel", (e) => {
          const ch = e.channel!;
          ch.binaryType = "arraybuffer";
          ch.addEventListener("message", (ev) => ch.send(ev.data as Uint8Array));
        });
        g.take = async (m: { t: string; sdp?: string; c?: string; m?: string; i?: number }) => {
          if (m.t === "offer") {
            await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
            await pc.setLocalDescription(await pc.createAnswer());
            out({ t: "answer", sdp: pc.localDescription!.sdp });
          } else if (m.t === "cand") {
            await pc.addIceCandidate({ candidate: m.c, sdpMid: m.m ?? null, sdpMLineIndex: m.i ?? null });
          }
        };
      });
      const pump = (async () => {
        while (pumping) {
          for (const m of toPage.splice(0)) {
            await page.evaluate((x) => ((globalThis as unknown as { take(m: unknown): Promise<void> }).take(x)), m);
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const channel = {
        send: (m: SignalMessage) => Promise.resolve(void toPage.push(m)),
        receive: async () => {
          while (!fromPage.length) await new Promise<void>((r) => wake = r);
          return fromPage.shift()!;
        },
        close: () => {},
      };
      const t0 = performance.now();
      const { pc, dc } = await negotiate(channel, true, {
        RTCPeerConnection: rtc.RTCPeerConnection as RtcPeerConnectionClass,
        maxCandidates: 32,
        signal: AbortSignal.timeout(15_000),
      });
      console.log(`Chromium <-> node-datachannel data channel open in ${(performance.now() - t0).toFixed(0)} ms`);
      const echoed = new Promise<number>((r) =>
        dc.addEventListener("message", (e) => r(new Uint8Array(e.data as ArrayBuffer).length))
      );
      dc.send(new Uint8Array(64).fill(9));
      assertEquals(await echoed, 64);
      pumping = false;
      await pump;
      pc.close();
    } finally {
      pumping = false;
      await browser.close();
      await new Promise((r) => setTimeout(r, 200));
      rtc.release();
    }
  },
);

Deno.test("webrtc: release node-datachannel (last)", opts, releaseRtc);
