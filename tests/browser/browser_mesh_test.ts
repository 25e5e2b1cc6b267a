/**
 * The browser library in real Chromium against real CLI nodes: a page loads
 * `/macula.js` from node A and joins the mesh through it over WebSocket.
 * 1. it receives what a CLI node publishes two hops away (C — B — A);
 * 2. it calls a procedure another node advertises, serves one a CLI node
 *    calls, and fetches content a CLI node published.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { chromiumMissing, inPage, openBrowser, openPeerPage, startNodes } from "./helpers.ts";

const missing = chromiumMissing();
if (missing) console.log(`SKIPPED browser mesh tests: ${missing}`);

interface Got {
  topic: string;
  payload: unknown;
  publisher: string;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function publishFrom(base: string, topic: string, payload: unknown): Promise<{ remote: number }> {
  const res = await fetch(`${base}/pubsub/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, payload }),
  });
  const body = await res.json();
  assertEquals(res.status, 200, JSON.stringify(body));
  return body;
}

Deno.test({
  name:
    "browser: a page on A receives what CLI node C publishes two hops away (C — B — A), calls C, is called by C, fetches C's content",
  ignore: missing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const t = await startNodes(3, (i) => i === 2 ? ["--echo", "demo.echo"] : []);
    const browser = await openBrowser();
    try {
      const { page, did, errors } = await openPeerPage(browser, t.bases[0], {
        connect: { identity: { ephemeral: true } },
      });
      assert(did.startsWith("did:key:z6Mk"), did);
      await inPage(page, (peer) => {
        const g = globalThis as unknown as { got: unknown[] };
        g.got = [];
        peer.subscribe("demo.browser.>", (m: { topic: string; payload: unknown; publisher: { did: string } }) => {
          g.got.push({ topic: m.topic, payload: m.payload, publisher: m.publisher.did });
        });
        return peer.pubsub.whenAnnounced();
      });
      // Subscriptions spread through the mesh in the background: publish until the page has one.
      const started = Date.now();
      let got: Got[] = [];
      for (let i = 0; got.length === 0; i++) {
        assert(Date.now() - started < 20_000, "no message reached the page within 20 s");
        await publishFrom(t.bases[2], "demo.browser.temp", { n: i, from: "C" });
        await new Promise((r) => setTimeout(r, 200));
        got = await inPage(page, () => (globalThis as unknown as { got: Got[] }).got);
      }
      console.log(`  first message from C reached the page ${Date.now() - started} ms after the first publish`);
      assertEquals(got[0].topic, "demo.browser.temp");
      assertEquals(got[0].publisher, t.ids[2], "published by C, two hops away");
      assertEquals((got[0].payload as { from: string }).from, "C");
      // The page's one direct link is its gateway A; C (seeded to B only) reaches it through A.
      const links = await inPage(page, (peer) => peer.peers().map((p) => ({ id: p.id, route: p.route })));
      assertEquals(links.filter((l) => l.route === "direct").map((l) => l.id), [t.ids[0]], JSON.stringify(links));
      const fromC = (await t.nodes[2].get("/peers") as { id: string; route: string }[]).find((p) => p.id === did);
      assert(
        !fromC || fromC.route === "relayed",
        `C reaches the page only through its gateway: ${JSON.stringify(fromC)}`,
      );

      // 2. the page calls the procedure C advertises (`--echo`), with its own identity
      const answer = await inPage(page, (peer) => peer.call("demo.echo", { hello: "from a page" })) as {
        node: string;
        from: string;
        args: unknown;
      };
      assertEquals(answer, { node: t.ids[2], from: did, args: { hello: "from a page" } });

      // the page advertises a procedure; C calls it (as the node, through its status port)
      await inPage(page, (peer) => {
        peer.advertise("demo.page.hello", (args, call) => ({ hello: args, caller: call.from.did }));
      });
      const called = await until("C calls the page's procedure", 20_000, async () => {
        const res = await fetch(`${t.bases[2]}/rpc/call`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ procedure: "demo.page.hello", args: "from C", timeout: 2000 }),
        });
        const body = await res.json();
        return res.status === 200 ? body : undefined;
      });
      assertEquals(called, { result: { hello: "from C", caller: t.ids[2] } });

      // content C publishes, fetched (and verified) by the page through the mesh
      const text = "content from C ".repeat(5000);
      const res = await fetch(`${t.bases[2]}/content`, { method: "POST", body: text });
      const { mcid } = await res.json();
      assertEquals(res.status, 201);
      const fetched = await inPage(page, (peer, _m, id: string) => new Response(peer.content.fetch(id)).text(), mcid);
      assertEquals(fetched, text, "the page fetched C's content, verified");
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await t.stop();
    }
  },
});
