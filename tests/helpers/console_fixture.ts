/**
 * Test helper: a stand-in for a node's console routes, for testing the page
 * itself with snapshots the test chooses. It serves the built page from
 * `CONSOLE_ASSETS` (gzip-encoded, as a node does), streams the snapshot the
 * test `push`es as Server-Sent Events, and records the actions the page
 * posts. The real routes are tested with real nodes in
 * tests/console/console_browser_test.ts.
 */
import { CONSOLE_ASSETS } from "../../src/console/assets.gen.ts";
import type { ConsoleAction, ConsoleSnapshot } from "../../src/console/protocol.ts";

/** A running fixture server. */
export interface ConsoleFixture {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Actions the page posted, in order. */
  actions: ConsoleAction[];
  /** Send `snapshot` to every open stream now (and to streams opened later). */
  push(snapshot: ConsoleSnapshot): void;
  close(): Promise<void>;
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Serve the page on 127.0.0.1 with `first` as the current snapshot. */
export function serveConsoleFixture(first: ConsoleSnapshot): Promise<ConsoleFixture> {
  let current = first;
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const actions: ConsoleAction[] = [];
  const frame = (s: ConsoleSnapshot) => new TextEncoder().encode(`event: snapshot\ndata: ${JSON.stringify(s)}\n\n`);
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(a.port) }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/console/events") {
      let mine: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          mine = c;
          streams.add(c);
          c.enqueue(frame(current));
        },
        cancel() {
          streams.delete(mine);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } });
    }
    const action = /^\/console\/actions\/(\w+)$/.exec(path);
    if (action && req.method === "POST") {
      const body = await req.json() as ConsoleAction;
      actions.push(body);
      return Response.json({ ok: true, result: { echo: body } });
    }
    const asset = CONSOLE_ASSETS[path === "/" || path === "/console" ? "/console/index.html" : path];
    if (!asset) return new Response("not found", { status: 404 });
    return new Response(decodeBase64(asset.gzip), {
      headers: { "content-type": asset.type, "content-encoding": "gzip" },
    });
  });
  return ready.promise.then((port) => ({
    origin: `http://127.0.0.1:${port}`,
    actions,
    push(snapshot) {
      current = snapshot;
      for (const c of streams) c.enqueue(frame(snapshot));
    },
    async close() {
      for (const c of streams) c.close();
      streams.clear();
      await server.shutdown();
    },
  }));
}

const did = (seed: string) => `did:key:z6Mk${seed.padEnd(44, seed.slice(-1))}`;

/** A made-up but plausible snapshot: 4 peers (one relayed through another), members, realms, content, apps. */
export function sampleSnapshot(at = Date.now()): ConsoleSnapshot {
  const self = did("SelfNodeAaaa");
  const peers = ["PeerOneBbbb", "PeerTwoCccc", "PeerThreeDd", "PeerFourEee"].map(did);
  const t = Array.from({ length: 120 }, (_, i) => at - (119 - i) * 1000);
  const wave = (base: number, amp: number) => t.map((_, i) => Math.max(0, base + amp * Math.sin(i / 7)));
  return {
    v: 1,
    at,
    readonly: false,
    node: {
      id: self,
      addrs: ["quic://127.0.0.1:4433", "tcp://127.0.0.1:4433"],
      observedAddrs: ["203.0.113.7:4433"],
      realms: ["default", "lab"],
      version: "0.1.0",
      runtime: "deno 2.9.6",
      uptime: 3725,
      reachability: "public",
      natType: "endpoint-independent",
      relays: [],
    },
    peers: [
      {
        id: peers[0],
        connected: true,
        path: "direct",
        transport: "quic",
        rtt: 0.42,
        addr: "127.0.0.1:4434",
        since: at - 60e3,
      },
      {
        id: peers[1],
        connected: true,
        path: "direct",
        transport: "tcp",
        rtt: 12.3,
        addr: "127.0.0.1:4435",
        since: at - 50e3,
      },
      { id: peers[2], connected: true, path: "relayed", via: peers[0], transport: "relay", rtt: 31, since: at - 40e3 },
      { id: peers[3], connected: true, path: "direct", transport: "quic", rtt: 2.5, since: at - 30e3 },
    ],
    members: [
      { id: self, state: "alive", changed: at - 3600e3 },
      { id: peers[0], state: "alive", changed: at - 60e3 },
      { id: peers[1], state: "alive", changed: at - 50e3 },
      { id: peers[3], state: "suspect", changed: at - 4e3 },
    ],
    realms: [
      {
        name: "default",
        topics: [{ topic: "sensors.temp", subscribers: 3, rate: 12.5 }, {
          topic: "console.test",
          subscribers: 1,
          rate: 0,
        }],
        procedures: [{ procedure: "time.now", providers: [self, peers[1]], rate: 0.5 }],
      },
      { name: "lab", topics: [], procedures: [] },
    ],
    content: {
      entries: [
        {
          mcid: "mcid1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
          size: 4 << 20,
          bytes: 4 << 20,
          complete: true,
          pinned: true,
        },
        {
          mcid: "mcid1ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210",
          size: 1 << 20,
          bytes: 1 << 19,
          complete: false,
          pinned: false,
        },
      ],
      used: 5 << 20,
      quota: 64 << 20,
      transfers: [{
        mcid: "mcid1ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210",
        size: 1 << 20,
        received: 1 << 19,
        providers: 2,
        rate: 250e3,
      }],
    },
    apps: [{ identity: did("AppWeatherFf"), capabilities: ["pubsub:sensors.*"], health: "healthy", checked: at - 5e3 }],
    series: {
      t,
      msgs: wave(12, 6),
      bytes: wave(40e3, 20e3),
      connections: t.map((_, i) => (i < 30 ? 2 : 4)),
      rss: t.map((_, i) => 80e6 + i * 1e5),
    },
  };
}
