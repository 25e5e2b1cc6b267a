/**
 * Issue 15, test 3: two pages (each its own browser context, so its own
 * identity) join a ring through one CLI gateway and exchange 1,000 messages
 * directly over WebRTC: the gateway forwards (almost) none of their bytes.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { chromiumMissing, inPage, openBrowser, openPeerPage, startNodes } from "./helpers.ts";

/** The gateway's `macula_relay_bytes_total` (0 before any circuit). */
async function relayedBytes(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith("macula_relay_bytes_total"))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

const missing = chromiumMissing();
if (missing) console.log(`ring browser test skipped: ${missing}`);

Deno.test({
  name: "browser ring: two pages join, 1,000 messages go page to page over WebRTC, not through the gateway",
  ignore: !!missing,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const t = await startNodes(1);
  const browser = await openBrowser();
  try {
    const a = await openPeerPage(browser, t.bases[0], { connect: { identity: { ephemeral: true } } });
    const b = await openPeerPage(browser, t.bases[0], { connect: { identity: { ephemeral: true } } });
    assert(a.did !== b.did, "each page has its own identity");
    const join = (peer: { service(key: unknown): unknown }, macula: Record<string, unknown>) => {
      const g = globalThis as unknown as Record<string, unknown> & { got: number };
      const started = performance.now();
      const rings = peer.service(macula.RINGS) as { join(name: string): unknown };
      const ring = rings.join("lobby") as {
        on(event: string, fn: (...args: unknown[]) => void): void;
        ready(n: number, o: { signal: AbortSignal }): Promise<void>;
      };
      g.ring = ring;
      g.got = 0;
      ring.on("message", () => g.got++);
      return ring.ready(1, { signal: AbortSignal.timeout(30_000) }).then(() => performance.now() - started);
    };
    // deno-lint-ignore no-explicit-any
    const [joinA, joinB] = await Promise.all([inPage(a.page, join as any), inPage(b.page, join as any)]);
    console.log(`    time to join the ring: ${Math.round(joinA as number)} ms, ${Math.round(joinB as number)} ms`);
    // The ring is up once its WebRTC connection is; the node's table adopts that connection in place of the relayed
    // one right after (new streams to B then take it): wait for that, up to 5 s.
    const path = await inPage(a.page, async (peer, _m, other: string) => {
      const g = globalThis as unknown as Record<string, unknown> & { ring: { up(): { did: string }[] } };
      const up = g.ring.up();
      const id = up.find((i) => i.did === other) as never;
      for (let i = 0; i < 100 && peer.connection(id)?.transport !== "webrtc"; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const conn = peer.connection(id);
      return { up: up.map((i) => i.did), transport: conn?.transport ?? null, route: conn?.route ?? null };
    }, b.did);
    assertEquals(path.up, [b.did], "page A sees page B in the ring");
    assertEquals([path.transport, path.route], ["webrtc", "direct"], "page A's node reaches page B over WebRTC");

    // The gateway is not in the ring, but its console shows the ring its two clients are in (the snapshot is
    // rebuilt once a second, and the clients' subscription announcements reach the gateway on their own schedule).
    type Rings = { rings?: { name: string; role?: string; members: { id: string; path: string }[] }[] };
    let lobby: NonNullable<Rings["rings"]>[number] | undefined;
    await until(
      async () => {
        const snapshot = await t.nodes[0].get("/console/snapshot") as Rings;
        lobby = snapshot.rings?.find((r) => r.name === "lobby");
        return lobby?.members.length === 2;
      },
      10_000,
      "the gateway's console lists the ring with both pages",
    );
    assertEquals(lobby?.role, "gateway");
    assertEquals(lobby?.members.map((m) => m.id).sort(), [a.did, b.did].sort());

    const before = await relayedBytes(t.nodes[0].healthPort);
    const sent = await inPage(a.page, async (_peer, _m, other: string) => {
      const g = globalThis as unknown as Record<string, unknown> & {
        ring: { up(): { did: string }[]; send(id: unknown, d: Uint8Array): Promise<void> };
      };
      const id = g.ring.up().find((i) => i.did === other);
      const started = performance.now();
      for (let i = 0; i < 1000; i++) await g.ring.send(id, new Uint8Array(64).fill(i & 0xff));
      return performance.now() - started;
    }, b.did);
    const got = await inPage(b.page, async () => {
      const g = globalThis as unknown as Record<string, unknown> & { got: number };
      for (let i = 0; i < 200 && g.got < 1000; i++) await new Promise((r) => setTimeout(r, 50));
      return g.got;
    });
    const after = await relayedBytes(t.nodes[0].healthPort);
    console.log(
      `    1,000 ring messages in ${Math.round(sent)} ms (${Math.round(1000 / (sent / 1000))} msg/s); ` +
        `gateway relayed ${after - before} bytes meanwhile`,
    );
    assertEquals(got, 1000, "page B received every message");
    // 1,000 × 64 B of payload (plus framing) went page to page: the gateway forwarded less than a tenth of one of them.
    assert(after - before < 64 * 1000 / 10, `gateway relayed ${after - before} bytes of the ring traffic`);
    assertEquals([...a.errors, ...b.errors], []);
  } finally {
    await browser.close();
    await t.stop();
  }
});
