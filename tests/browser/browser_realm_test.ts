/**
 * A browser peer in a closed realm (real Chromium, real CLI nodes): the
 * gateway A and the provider C run `io.acme` closed under an authority; a
 * page without a capability is refused C's procedure, a page holding a
 * chain the authority delegated to its did calls it (C sees the page's did
 * as the caller). A browser peer is a normal id: the realm's rules are the
 * same as for any node.
 */
import { encodeDidKey } from "../../src/identity/did.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, runCli, scratchDir, startNode } from "../helpers/cli.ts";
import { chromiumMissing, didOf, inPage, openBrowser, openPeerPage, tcpAddressOf } from "./helpers.ts";

const missing = chromiumMissing();
if (missing) console.log(`SKIPPED browser realm test: ${missing}`);

const REALM = "io.acme";
const NS = "io.acme.plant3";

async function cliOk(args: string[]): Promise<string> {
  const r = await runCli(args);
  assertEquals(r.code, 0, `macula ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

Deno.test({
  name: "browser: in a closed realm a page without a capability is refused, a page holding a chain is served",
  ignore: missing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await scratchDir();
    const d = (name: string) => `${dir.path}/${name}`;
    const nodes: NodeProcess[] = [];
    const browser = await openBrowser();
    try {
      const seed = crypto.getRandomValues(new Uint8Array(32));
      const pageDid = encodeDidKey(KeyPair.fromSeed(seed).publicKey);
      const [auth, aDid, cDid] = await Promise.all(["auth", "a", "c"].map((n) => cliOk(["id", "--data-dir", d(n)])));
      const delegate = (to: string, out: string) =>
        cliOk(["namespace", "delegate", NS, "--to", to, "--exp", "1h", "--data-dir", d("auth"), "-o", out]);
      await Promise.all([
        delegate(aDid, `${d("a")}/ucan/plant3.ucan`),
        delegate(cDid, `${d("c")}/ucan/plant3.ucan`),
        delegate(pageDid, `${d("page.ucan")}`),
      ]);
      const chain = await Deno.readTextFile(new URL(`../../${d("page.ucan")}`, import.meta.url));
      const closed = ["--log-format", "json", "--realm", REALM, "--realm-policy", "closed", "--realm-authority"];
      nodes.push(await startNode(["--data-dir", d("a"), ...closed, `${REALM}=${auth}`]));
      nodes.push(
        await startNode([
          "--data-dir",
          d("c"),
          ...closed,
          `${REALM}=${auth}`,
          "--seed",
          await tcpAddressOf(nodes[0]),
          "--echo",
          `${NS}.echo`,
        ]),
      );
      assertEquals(nodes.map(didOf), [aDid, cDid]);
      const base = `http://127.0.0.1:${nodes[0].healthPort}`;
      const realm = {
        realms: [REALM],
        node: { auth: { realms: { [REALM]: { policy: "closed", authorities: [auth] } } } },
      };

      // Without a capability: refused.
      const stranger = await openPeerPage(browser, base, { connect: { ...realm, identity: { ephemeral: true } } });
      const refused = await inPage(stranger.page, async (peer, _m, procedure: string) => {
        try {
          return `answered ${JSON.stringify(await peer.call(procedure, "hi", { timeout: 3000 }))}`;
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      }, `${NS}.echo`);
      console.log(`  without a capability: ${refused}`);
      assert(/^(NotAuthorizedError|NoProviderError):/.test(refused), refused);

      // With the chain the authority delegated to its did: served, as itself.
      const member = await openPeerPage(browser, base, { connect: realm, seed, chains: [chain] });
      assertEquals(member.did, pageDid);
      let answer: unknown;
      const started = Date.now();
      for (;;) {
        answer = await inPage(member.page, async (peer, _m, procedure: string) => {
          try {
            return await peer.call(procedure, "hi", { timeout: 3000 });
          } catch (error) {
            return `${(error as Error).name}: ${(error as Error).message}`;
          }
        }, `${NS}.echo`);
        if (typeof answer !== "string" || Date.now() - started > 15_000) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assertEquals(answer, { node: cDid, from: pageDid, args: "hi" });
      assertEquals([...stranger.errors, ...member.errors], []);
    } finally {
      await browser.close();
      await Promise.all(nodes.map((n) => n.stop("SIGTERM").catch(() => 0)));
      await dir.cleanup();
    }
  },
});
