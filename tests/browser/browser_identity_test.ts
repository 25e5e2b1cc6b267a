/**
 * Browser peers' identities and departures, in real Chromium against a real
 * CLI gateway:
 * - the identity is kept in IndexedDB: the same did after a reload, another
 *   did in another browser context (another IndexedDB);
 * - a page that claims another page's id (that page's public key, its own
 *   secret) is refused by the gateway, and the real owner stays connected;
 * - closing a page is seen by its gateway at once (measured); a page cut off
 *   the network, after the keep-alive timeout.
 */
import { NodeId } from "../../src/identity/node-id.ts";
import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import { chromiumMissing, inPage, openBrowser, openPeerPage, startNodes, type TestNodes } from "./helpers.ts";

const missing = chromiumMissing();
if (missing) console.log(`SKIPPED browser identity tests: ${missing}`);

interface PeerRow {
  id: string;
  transport: string;
}

async function peersOf(t: TestNodes, i: number): Promise<PeerRow[]> {
  return await t.nodes[i].get("/peers") as PeerRow[];
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "browser identities and departures (one CLI gateway, one Chromium)",
  ignore: missing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(ctx) {
    const t = await startNodes(1);
    const browser = await openBrowser();
    try {
      await ctx.step({
        name: "the identity is kept in IndexedDB (same did after a reload, another in another context)",
        sanitizeOps: false,
        sanitizeResources: false,
        fn: async () => {
          const connect = { identity: { database: "macula-test", key: "me" } };
          const first = await openPeerPage(browser, t.bases[0], { connect });
          const source = () =>
            inPage(
              first.page,
              (_peer, m) =>
                m.loadBrowserIdentity({ database: "macula-test", key: "me" }).then((i: { source: string }) => i.source),
            );
          assertEquals(await source(), "stored");
          await inPage(first.page, (peer) => peer.close());
          await first.page.reload({ waitUntil: "load" });
          const again = await openPeerPage(browser, t.bases[0], { connect, page: first.page });
          assertEquals(again.did, first.did, "the same did after a reload");
          await until(
            "the reloaded peer at the gateway",
            5000,
            async () => (await peersOf(t, 0)).some((p) => p.id === again.did),
          );

          const other = await openPeerPage(browser, t.bases[0], { connect });
          assertNotEquals(other.did, first.did, "another browser context has its own IndexedDB, so its own identity");
          // a different database in the same page: a different identity; clear: a new one under the same key
          const [otherDb, cleared] = await inPage(first.page, async (_peer, m) => {
            const a = await m.loadBrowserIdentity({ database: "macula-test-2", key: "me" });
            const b = await m.loadBrowserIdentity({ database: "macula-test", key: "me", clear: true });
            return [a.did, b.did];
          });
          assertNotEquals(otherDb, first.did);
          assertNotEquals(cleared, first.did);
          assertEquals([...first.errors, ...again.errors, ...other.errors], []);
        },
      });
      await ctx.step({
        name: "a page claiming another page's id (its public key, its own secret) is refused; the owner stays",
        sanitizeOps: false,
        sanitizeResources: false,
        fn: async () => {
          const victim = await openPeerPage(browser, t.bases[0], { connect: { identity: { ephemeral: true } } });
          await until(
            "the victim at the gateway",
            5000,
            async () => (await peersOf(t, 0)).some((p) => p.id === victim.did),
          );
          const impostor = await openPeerPage(browser, t.bases[0], { connect: { identity: { ephemeral: true } } });
          // The impostor builds a node whose key pair announces the victim's public key but signs with its own secret.
          const outcome = await inPage(impostor.page, async (peer, m, victimDid: string) => {
            const own = m.KeyPair.generate();
            const forged = {
              publicKey: m.NodeId.fromDid(victimDid).bytes,
              sign: (message: Uint8Array) => own.sign(message),
              exportSeed: () => own.exportSeed(),
            };
            const gateway = await m.fetchGateway(new URL("/", location.href));
            await peer.stop(); // its honest connection goes; only the forged one is tried
            const node = await m.Node.start({
              keyPair: forged as never, // duck-typed: the public key of one, the secret of another
              transports: [new m.WebSocketTransport()],
              nat: false,
              punch: false,
              apps: false,
              relay: false,
            });
            try {
              await node.connect(gateway.ws);
              return { connected: true, error: "" };
            } catch (error) {
              return { connected: false, error: `${(error as Error).name}: ${(error as Error).message}` };
            } finally {
              await node.stop();
            }
          }, victim.did);
          console.log(`  the impostor's dial: ${outcome.error}`);
          assertEquals(outcome.connected, false, "the forged identity cannot connect");
          assert(outcome.error.startsWith("DialError"), outcome.error);
          const peers = await peersOf(t, 0);
          const owners = peers.filter((p) => p.id === victim.did);
          assertEquals(owners.length, 1, "the real owner is still connected, once");
          const metrics = await (await fetch(`${t.bases[0]}/metrics`)).text();
          const failed = metrics.split("\n").filter((l) => /^macula_handshake_failures_total\{/.test(l));
          console.log(`  gateway: ${failed.join("; ")}`);
          assert(failed.some((l) => Number(l.split(" ").pop()) >= 1), "the gateway counted the failed handshake");
          assertEquals(victim.errors, []);
        },
      });
      await ctx.step({
        name: "closing a page, navigating away or peer.close() is seen by its gateway at once (measured)",
        sanitizeOps: false,
        sanitizeResources: false,
        fn: async () => {
          const times: number[] = [];
          for (let i = 0; i < 3; i++) {
            const { page, did } = await openPeerPage(browser, t.bases[0], {
              connect: { identity: { ephemeral: true } },
            });
            await until("the page at the gateway", 5000, async () => (await peersOf(t, 0)).some((p) => p.id === did));
            const short = NodeId.fromDid(did).short;
            const closedAt = Date.now();
            await page.close({ runBeforeUnload: false });
            const line = await until("the gateway's 'gateway client down' line (peer:down)", 10_000, () => {
              const hit = t.nodes[0].lines.find((l) => l.includes('"gateway client down"') && l.includes(short));
              return Promise.resolve(hit);
            });
            const at = Date.parse(JSON.parse(line).time);
            times.push(at - closedAt);
            assert(!(await peersOf(t, 0)).some((p) => p.id === did), "gone from /peers");
          }
          // navigating away (pagehide) does the same
          {
            const { page, did } = await openPeerPage(browser, t.bases[0], {
              connect: { identity: { ephemeral: true } },
            });
            await until("the page at the gateway", 5000, async () => (await peersOf(t, 0)).some((p) => p.id === did));
            const leftAt = Date.now();
            await page.goto(`${t.bases[0]}/ready`, { waitUntil: "load" });
            await until(
              "the gateway to drop the page that navigated away",
              5000,
              async () => !(await peersOf(t, 0)).some((p) => p.id === did),
            );
            console.log(`  navigated away → gone from the gateway's /peers within ${Date.now() - leftAt} ms`);
          }
          // an explicit close() from the page: the same
          {
            const { page, did } = await openPeerPage(browser, t.bases[0], {
              connect: { identity: { ephemeral: true } },
            });
            await until("the page at the gateway", 5000, async () => (await peersOf(t, 0)).some((p) => p.id === did));
            const closedAt = Date.now();
            await inPage(page, (peer) => peer.close());
            await until(
              "the gateway to drop the closed peer",
              5000,
              async () => !(await peersOf(t, 0)).some((p) => p.id === did),
            );
            console.log(`  peer.close() → gone from the gateway's /peers within ${Date.now() - closedAt} ms`);
            assertEquals(await inPage(page, (peer) => peer.peers().length), 0);
          }
          times.sort((a, b) => a - b);
          console.log(`  page closed → gateway's peer:down: median ${times[1]} ms (of ${times.join(", ")} ms)`);
          assert(times[1] < 2250, `median ${times[1]} ms: within the keep-alive detection time (3 × 750 ms)`);
        },
      });
      await ctx.step({
        name: "a page cut off the network (offline emulation) is dropped by its gateway after the keep-alive timeout",
        sanitizeOps: false,
        sanitizeResources: false,
        fn: async () => {
          const { page, did } = await openPeerPage(browser, t.bases[0], { connect: { identity: { ephemeral: true } } });
          await until("the page at the gateway", 5000, async () => (await peersOf(t, 0)).some((p) => p.id === did));
          const short = NodeId.fromDid(did).short;
          const cutAt = Date.now();
          // No close frame, no FIN: the frames just stop, as when a phone leaves the network.
          await page.emulateNetworkConditions({ offline: true, download: 0, upload: 0, latency: 0 });
          const line = await until(
            "the gateway's 'gateway client down' line (peer:down)",
            10_000,
            () =>
              Promise.resolve(t.nodes[0].lines.find((l) => l.includes('"gateway client down"') && l.includes(short))),
          );
          const after = Date.parse(JSON.parse(line).time) - cutAt;
          console.log(`  cut off → gateway's peer:down after ${after} ms (keep-alive: 3 × 750 ms unanswered)`);
          assert(after >= 1000 && after < 5000, `${after} ms`);
        },
      });
    } finally {
      await browser.close();
      await t.stop();
    }
  },
});
