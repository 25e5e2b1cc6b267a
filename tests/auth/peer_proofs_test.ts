/**
 * The cache of other nodes' chains (`src/auth/peer-proofs.ts`) with real
 * signed chains: the forwarder fallback, every pulled chain verified (a
 * forwarder cannot pass off a chain for another audience or a forged
 * token), single flight, and a node started over a revocation file with a
 * corrupt line.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { PeerProofs } from "../../src/auth/peer-proofs.ts";
import type { PullOutcome } from "../../src/auth/auth-metrics.ts";
import { verifyChain } from "../../src/ucan/mod.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";
import { closedAuth, grant, newSigner, REALM } from "./helpers.ts";
import { revoke } from "../../src/ucan/mod.ts";
import { toBase64 } from "../../src/util/bytes.ts";

const authority = newSigner();
const id = () => new NodeId(KeyPair.generate().publicKey);

function proofs(fetch: (from: NodeId, subject: NodeId) => Promise<Uint8Array[][]>, outcomes: PullOutcome[] = []) {
  return new PeerProofs({
    fetch,
    verify: (chain, audience) =>
      verifyChain(chain, { audience, roots: new Set([authority.did]), now: Math.floor(Date.now() / 1000) }),
    onPull: (_s, o) => outcomes.push(o),
  });
}

Deno.test("peer proofs: an unreachable origin's chains come from the forwarder, verified", async () => {
  const origin = id(), via = id();
  const chain = grant(authority, origin.did, "/macula/pubsub/publish").map((d) => d.bytes);
  const asked: string[] = [];
  const outcomes: PullOutcome[] = [];
  const cache = proofs((from, subject) => {
    asked.push(from.equals(subject) ? "origin" : "via");
    if (from.equals(origin)) return Promise.reject(new Error("no address"));
    return Promise.resolve([chain]);
  }, outcomes);
  const entry = await cache.pull(origin, via);
  assertEquals(asked, ["origin", "via"]);
  assertEquals(entry.chains.length, 1);
  assertEquals(entry.chains[0].audience, origin.did);
  assertEquals(outcomes, ["ok"]);
});

Deno.test("peer proofs: a forwarder's chain for another audience, a forged token or garbage counts for nothing", async () => {
  const origin = id(), via = id(), other = id();
  const stolen = grant(authority, other.did, "/macula").map((d) => d.bytes);
  const forged = grant(authority, origin.did, "/macula").map((d) => d.bytes.slice());
  forged[0][forged[0].length - 1] ^= 1;
  const rogue = newSigner(); // not the realm's authority
  const unrooted = grant(rogue, origin.did, "/macula").map((d) => d.bytes);
  const outcomes: PullOutcome[] = [];
  const cache = proofs(
    (from) =>
      from.equals(origin)
        ? Promise.resolve([])
        : Promise.resolve([stolen, forged, unrooted, [new Uint8Array([1, 2, 3])]]),
    outcomes,
  );
  const entry = await cache.pull(origin, via);
  assertEquals(entry.chains.length, 0);
  assertEquals(outcomes, ["none"]);
});

Deno.test("peer proofs: concurrent pulls of one subject share one fetch", async () => {
  const subject = id();
  let fetches = 0;
  const cache = proofs(async () => {
    fetches++;
    await new Promise((r) => setTimeout(r, 20));
    return [grant(authority, subject.did, "/macula").map((d) => d.bytes)];
  });
  const all = await Promise.all(Array.from({ length: 20 }, () => cache.pull(subject)));
  assertEquals(fetches, 1);
  assert(all.every((e) => e === all[0] && e.chains.length === 1));
  assert(!cache.stale(all[0]), "just pulled");
});

Deno.test({
  name: "auth: a node starts over a revocation file with a corrupt line, skipping and reporting it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "macula-auth-" });
    const owner = newSigner();
    const chain = grant(authority, owner.did, "/macula");
    const inv = revoke(authority, chain[0].id);
    await Deno.mkdir(`${dir}/auth`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/auth/revocations`,
      `${inv.id} ${toBase64(inv.bytes)}\nthis line is not a revocation\nbafyfake ${toBase64(new Uint8Array([9, 9]))}\n`,
    );
    const node = await memoryNode(new MemoryNetwork(), { dataDir: dir, realms: [REALM], auth: closedAuth(authority) });
    try {
      assert(node.auth.isRevoked(chain[0].id, [authority.did]), "the good line is applied");
      const status = node.status().auth as { revocations: number; unreadableRevocations: number };
      assertEquals(status.revocations, 2, "two lines read as entries");
      assertEquals(status.unreadableRevocations, 2, "one unreadable line, one entry that is no revocation");
    } finally {
      await node.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
