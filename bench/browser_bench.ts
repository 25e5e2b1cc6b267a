/**
 * Browser library benchmark (real Chromium, real CLI gateway), each figure
 * next to its baseline in the same run:
 *
 * - round trip (ping, median and p99 of 500 after 50 warm-up): a page ↔ its
 *   gateway over the WebSocket link, next to a Deno node ↔ the same gateway
 *   over WebSocket and over TCP + Noise, and the browser's floors: a raw
 *   WebSocket echo (64 B, no Noise, no mux) and a `fetch` from the page;
 * - time to join: a fresh page imports `/macula.js` and `connect()`s
 *   (median of 5 pages, each in its own context);
 * - messages/s from a browser publisher: the page publishes 5,000 small
 *   messages (awaiting each `publish`), a Deno node subscribed through the
 *   gateway receives them; the rate is delivered messages over the time
 *   from the first publish to the last arrival; next to the same from a
 *   Deno publisher on the same gateway.
 *
 * Run: `deno task bench:browser` (`--quick` for fewer samples). Needs
 * Chromium (Debian's `chromium`); ends with one `BENCH_JSON {...}` line.
 *
 * @module
 */
import { Node } from "../src/api/node.ts";
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { WebSocketTransport } from "../src/transport/websocket.ts";
import {
  chromiumMissing,
  inPage,
  openBrowser,
  openPeerPage,
  startNodes,
  tcpAddressOf,
} from "../tests/browser/helpers.ts";

const QUICK = Deno.args.includes("--quick");
const PINGS = QUICK ? 150 : 500;
const WARM = 50;
const MESSAGES = QUICK ? 1000 : 5000;

function stats(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: +at(0.5).toFixed(3), p99: +at(0.99).toFixed(3) };
}

async function until(ms: number, what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

if (import.meta.main) {
  const missing = chromiumMissing();
  if (missing) {
    console.log(`browser bench skipped: ${missing}`);
    Deno.exit(0);
  }
  const t = await startNodes(1);
  const browser = await openBrowser();
  const deno = await Node.start({
    keyPair: KeyPair.generate(),
    host: "127.0.0.1",
    port: 0,
    transports: ["tcp"],
    seeds: [await tcpAddressOf(t.nodes[0])],
    logger: Logger.silent(),
    nat: false,
    punch: false,
  });
  try {
    const gw = t.ids[0];
    // A Deno node on the gateway's WebSocket link too: tells the link's cost from the browser's.
    await using denoWs = await Node.start({
      keyPair: KeyPair.generate(),
      transports: [new WebSocketTransport()],
      seeds: [`ws://127.0.0.1:${t.nodes[0].healthPort}/${gw}`],
      logger: Logger.silent(),
      nat: false,
      punch: false,
      relay: false,
    });
    const { page } = await openPeerPage(browser, t.bases[0], { connect: { identity: { ephemeral: true } } });

    // Round trips: the page over ws, the Deno node over TCP, to the same gateway; interleaved halves.
    const timedPings = (n: number) =>
      inPage(
        page,
        async (peer, _m, id: string, count: number) => {
          const out: number[] = [];
          for (let i = 0; i < count; i++) {
            const t0 = performance.now();
            await peer.ping(id);
            out.push(performance.now() - t0);
          }
          return out;
        },
        gw,
        n,
      );
    const denoPings = async (n: number, node = deno) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await node.ping(gw);
        out.push(performance.now() - t0);
      }
      return out;
    };
    await timedPings(WARM);
    await denoPings(WARM);
    await denoPings(WARM, denoWs);
    const wsRtt = [...await timedPings(PINGS / 2), ...await timedPings(PINGS / 2)];
    const tcpRtt = [...await denoPings(PINGS / 2), ...await denoPings(PINGS / 2)];
    const denoWsRtt = [...await denoPings(PINGS / 2, denoWs), ...await denoPings(PINGS / 2, denoWs)];
    // The browser's own floor: an HTTP request from the page to the same server (a kept-alive connection).
    const fetchRtt = await inPage(page, async (_peer, _m, count: number) => {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await (await fetch("/health", { cache: "no-store" })).text();
        out.push(performance.now() - t0);
      }
      return out;
    }, PINGS);
    const http = stats(fetchRtt.slice(WARM));
    // The raw floor: a plain WebSocket echo server (Deno, no Noise, no mux) and 64 B messages from the page.
    const echo = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    });
    const rawRtt = await inPage(
      page,
      async (_peer, _m, url: string, count: number) => {
        const ws = new WebSocket(url);
        ws.binaryType = "arraybuffer";
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = reject;
        });
        const out: number[] = [];
        const payload = new Uint8Array(64);
        for (let i = 0; i < count; i++) {
          const t0 = performance.now();
          await new Promise((resolve) => {
            ws.onmessage = resolve;
            ws.send(payload);
          });
          out.push(performance.now() - t0);
        }
        ws.close();
        return out;
      },
      `ws://127.0.0.1:${echo.addr.port}/`,
      PINGS + WARM,
    );
    await echo.shutdown();
    const raw = stats(rawRtt.slice(WARM));
    const ws = stats(wsRtt);
    const tcp = stats(tcpRtt);
    const dws = stats(denoWsRtt);
    console.log(`round trip, page ↔ gateway over ws:        p50 ${ws.p50} ms, p99 ${ws.p99} ms (${PINGS} pings)`);
    console.log(`page ↔ raw WebSocket echo (Deno), 64 B:   p50 ${raw.p50} ms, p99 ${raw.p99} ms (browser floor)`);
    console.log(`page's own fetch("/health") round trip:   p50 ${http.p50} ms, p99 ${http.p99} ms (browser floor)`);
    console.log(`round trip, Deno node ↔ gateway over ws:   p50 ${dws.p50} ms, p99 ${dws.p99} ms (${PINGS} pings)`);
    console.log(`round trip, Deno node ↔ gateway over tcp:  p50 ${tcp.p50} ms, p99 ${tcp.p99} ms (${PINGS} pings)`);

    // Time to join: a fresh page (own context, cold cache) imports /macula.js and connects; 5 pages, median.
    const joins: { load: number; connect: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.createBrowserContext();
      const fresh = await context.newPage();
      await fresh.goto(`${t.bases[0]}/health`, { waitUntil: "load" });
      joins.push(
        await fresh.evaluate(async (src: string) => {
          const t0 = performance.now();
          const m = await import(src);
          const t1 = performance.now();
          const peer = await m.connect({ identity: { ephemeral: true } });
          const t2 = performance.now();
          await peer.close();
          return { load: t1 - t0, connect: t2 - t1 };
        }, `${t.bases[0]}/macula.js`),
      );
      await context.close();
    }
    const load = stats(joins.map((j) => j.load)).p50;
    const join = stats(joins.map((j) => j.connect)).p50;
    console.log(
      `time to join: import /macula.js ${load.toFixed(1)} ms + connect() ${join.toFixed(1)} ms (median of 5)`,
    );

    // Messages/s: the Deno node subscribes; the page (then the Deno node's twin) publishes through the gateway.
    let got = 0;
    deno.subscribe("bench.browser.>", () => void got++);
    await deno.pubsub.whenAnnounced();
    // wait until the page's messages reach the subscriber at all (the subscription spreads in the background)
    const probeStart = Date.now();
    while (got === 0) {
      if (Date.now() - probeStart > 20_000) throw new Error("the page's messages never reached the subscriber");
      await inPage(page, (peer) => peer.publish("bench.browser.probe", 0));
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    got = 0;
    const start = Date.now();
    const publishMs = await inPage(page, async (peer, _m, n: number) => {
      const t0 = performance.now();
      const payload = { text: "x".repeat(48) };
      for (let i = 0; i < n; i++) await peer.publish("bench.browser.rate", payload);
      return performance.now() - t0;
    }, MESSAGES);
    await until(30_000, "the page's messages", () => got >= MESSAGES).catch(() => {});
    const pageRate = Math.round(got / ((Date.now() - start) / 1000));
    const pageDelivered = got;
    console.log(
      `messages/s from a page publisher: ${pageRate}/s delivered (${pageDelivered}/${MESSAGES}; publish loop ${
        Math.round(publishMs)
      } ms)`,
    );

    // Baseline: a second Deno node on the gateway (TCP) publishes the same to the same subscriber.
    await using twin = await Node.start({
      keyPair: KeyPair.generate(),
      host: "127.0.0.1",
      port: 0,
      transports: ["tcp"],
      seeds: [await tcpAddressOf(t.nodes[0])],
      logger: Logger.silent(),
      nat: false,
      punch: false,
    });
    const twinStart = Date.now();
    got = 0;
    while (got === 0) {
      if (Date.now() - twinStart > 20_000) throw new Error("the twin's messages never reached the subscriber");
      await twin.publish("bench.browser.probe", 0);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    got = 0;
    const t0 = Date.now();
    const payload = { text: "x".repeat(48) };
    for (let i = 0; i < MESSAGES; i++) await twin.publish("bench.browser.rate", payload);
    await until(30_000, "the twin's messages", () => got >= MESSAGES).catch(() => {});
    const denoRate = Math.round(got / ((Date.now() - t0) / 1000));
    console.log(`messages/s from a Deno publisher (tcp): ${denoRate}/s delivered (${got}/${MESSAGES})`);
    console.log(
      "BENCH_JSON " + JSON.stringify({
        rtt_ws_page_ms: ws,
        rtt_ws_deno_ms: dws,
        rtt_page_fetch_ms: http,
        rtt_page_raw_ws_ms: raw,
        rtt_tcp_deno_ms: tcp,
        join_import_ms: load,
        join_connect_ms: join,
        page_publish_msgs_per_s: pageRate,
        page_delivered: pageDelivered,
        deno_publish_msgs_per_s: denoRate,
        messages: MESSAGES,
      }),
    );
  } finally {
    await deno.stop();
    await browser.close();
    await t.stop();
  }
}
