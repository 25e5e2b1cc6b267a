/** The SSE stream through a real status server on 127.0.0.1, read with fetch. */
import { joinedNodes, MemoryNetwork, until } from "../helpers/nodes.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { serveConsole, SseReader } from "./helpers.ts";
import { ConsoleEventStream } from "../../src/console/event-stream.ts";
import type { ConsoleSnapshot } from "../../src/console/protocol.ts";

Deno.test("events: a first snapshot at once, then one each tick; the graph's peers; no timer without clients", async () => {
  const [a, b] = await joinedNodes(new MemoryNetwork(), 2);
  const web = await serveConsole(a, { interval: 200 });
  try {
    assertEquals(web.web.events.ticking, false);
    const started = Date.now();
    const res = await fetch(`${web.base}/console/events`);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const sse = new SseReader(res);
    const first = await sse.next();
    assert(Date.now() - started < 1000, "the first snapshot comes at once");
    assertEquals(first.node.id, a.did);
    assertEquals(first.peers.map((p) => p.id), [b.did]);
    const second = await sse.next();
    const third = await sse.next();
    assert(second.at > first.at && third.at > second.at, "later snapshots follow each tick");
    assertEquals(web.web.events.clients, 1);
    assert(web.web.events.ticking);
    await sse.cancel();
    await until(() => web.web.events.clients === 0, 2000, "the cancelled client removed");
    assertEquals(web.web.events.ticking, false);
  } finally {
    await web.close();
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("events: at most maxClients; one more gets 503 with a clear message", async () => {
  const [a] = await joinedNodes(new MemoryNetwork(), 1);
  const web = await serveConsole(a, { maxClients: 2 });
  const readers: SseReader[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const r = new SseReader(await fetch(`${web.base}/console/events`));
      await r.next();
      readers.push(r);
    }
    const refused = await fetch(`${web.base}/console/events`);
    assertEquals(refused.status, 503);
    const body = await refused.json();
    assertEquals(body.code, "E_CONSOLE_BUSY");
    assert(String(body.error).includes("too many console clients"));
    await readers.pop()!.cancel();
    await until(() => web.web.events.clients === 1, 2000, "a slot freed");
    const again = new SseReader(await fetch(`${web.base}/console/events`));
    await again.next();
    readers.push(again);
  } finally {
    for (const r of readers) await r.cancel();
    await web.close();
    await a.stop();
  }
});

Deno.test("events: one snapshot per tick for every client (built once), and a ping comment", async () => {
  let built = 0;
  const snapshot = { v: 1, at: 0 } as ConsoleSnapshot;
  const events = new ConsoleEventStream({
    snapshot: () => (built++, { ...snapshot, at: Date.now() }),
    interval: 50,
    pingInterval: 100,
  });
  const readers = [0, 1, 2].map(() => new SseReader(events.response(new Request("http://127.0.0.1/console/events"))));
  try {
    for (const r of readers) await r.next(); // the three first snapshots: one each
    assertEquals(built, 3);
    for (let i = 0; i < 4; i++) for (const r of readers) await r.next();
    assert(built <= 3 + 5, `${built} snapshots built for 3 clients over 4 ticks`);
    assert(readers[0].comments.includes("ping"), "a ping comment");
  } finally {
    events.close();
  }
  assertEquals(events.ticking, false);
});

Deno.test("console routes: / redirects, the page and assets with gzip or plain, etag, 404", async () => {
  const [a] = await joinedNodes(new MemoryNetwork(), 1);
  const web = await serveConsole(a);
  try {
    const root = await fetch(`${web.base}/`, { redirect: "manual" });
    assertEquals(root.status, 302);
    assertEquals(root.headers.get("location"), "/console");
    await root.body?.cancel();
    const page = await fetch(`${web.base}/console`); // fetch asks for gzip and decodes it
    assertEquals(page.status, 200);
    assert(page.headers.get("content-type")!.startsWith("text/html"));
    const html = await page.text();
    assert(html.includes("<html"), "the page");
    const etag = page.headers.get("etag")!;
    const plain = await fetch(`${web.base}/console/`, { headers: { "accept-encoding": "identity" } });
    assertEquals(plain.headers.get("content-encoding"), null);
    assertEquals(await plain.text(), html);
    const cached = await fetch(`${web.base}/console/index.html`, { headers: { "if-none-match": etag } });
    assertEquals(cached.status, 304);
    await cached.body?.cancel();
    const missing = await fetch(`${web.base}/console/nope.js`);
    assertEquals(missing.status, 404);
    assertEquals((await missing.json()).code, "E_NOT_FOUND");
    const snap = await fetch(`${web.base}/console/snapshot`);
    assertEquals((await snap.json()).node.id, a.did);
  } finally {
    await web.close();
    await a.stop();
  }
});

Deno.test("events: the defaults through consoleRoutes (options left undefined): one snapshot a second, 16 clients", async () => {
  const [a] = await joinedNodes(new MemoryNetwork(), 1);
  const web = await serveConsole(a, { interval: undefined, maxClients: undefined, keepDisconnected: undefined });
  const readers: SseReader[] = [];
  try {
    for (let i = 0; i < 16; i++) {
      const r = new SseReader(await fetch(`${web.base}/console/events`));
      await r.next();
      readers.push(r);
    }
    const refused = await fetch(`${web.base}/console/events`);
    assertEquals(refused.status, 503, "the 17th client");
    await refused.body?.cancel();
    const started = Date.now();
    const first = await readers[0].next(3000);
    const second = await readers[0].next(3000);
    assert(second.at - first.at >= 900, `ticks ${second.at - first.at} ms apart`);
    assert(Date.now() - started < 2500);
  } finally {
    for (const r of readers) await r.cancel();
    await web.close();
    await a.stop();
  }
});
