/**
 * The `/auth` routes over a real node (in memory, closed realm): the status
 * JSON, a revocation handed to the node (stored, applied), the loopback
 * rule, and bad bodies — each a 4xx with a one-line error and a code.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";
import { authRoutes } from "../../src/http/auth-routes.ts";
import { statusHandler } from "../../src/http/status-server.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { delegate, encodeContainer, invoke, revoke, signerFromKeyPair } from "../../src/ucan/mod.ts";

const now = () => Math.floor(Date.now() / 1000);

Deno.test("auth routes: GET /auth, POST /auth/revocations applies a revocation; loopback only; bad bodies are 400", async () => {
  const authorityKey = KeyPair.generate();
  const authority = signerFromKeyPair(authorityKey);
  const key = KeyPair.generate();
  const nodeDid = signerFromKeyPair(key).did;
  const chain = [delegate(authority, { aud: nodeDid, sub: authority.did, cmd: "/macula/pubsub", exp: now() + 3600 })];
  const node = await memoryNode(new MemoryNetwork(), {
    keyPair: key,
    realms: ["io.acme"],
    auth: { realms: { "io.acme": { policy: "closed", authorities: [authority.did] } }, chains: [chain] },
  });
  try {
    const handler = statusHandler(node, [authRoutes(node.auth)], { loopback: true });
    const remote = statusHandler(node, [authRoutes(node.auth)], { loopback: false });
    const status = await (await handler(new Request("http://x/auth"))).json();
    assertEquals(status.realms["io.acme"].policy, "closed");
    assertEquals(status.chains.length, 1);
    assertEquals(status.revocations, 0);
    // GET /auth is served on any interface (like /status); the revocation route only on loopback.
    assertEquals((await remote(new Request("http://x/auth"))).status, 200);
    const revocation = revoke(authority, chain[0].cid);
    const post = (h: typeof handler, body: string) =>
      h(new Request("http://x/auth/revocations", { method: "POST", body }));
    const refused = await post(remote, encodeContainer([revocation.bytes]));
    assertEquals(refused.status, 403);
    assertEquals((await refused.json()).code, "E_FORBIDDEN");
    assert(!node.auth.isRevoked(chain[0].id, [authority.did]));
    const ok = await post(handler, encodeContainer([revocation.bytes]));
    assertEquals(ok.status, 201);
    assertEquals(await ok.json(), { cid: revocation.id, revokes: chain[0].id, revoker: authority.did });
    assert(node.auth.isRevoked(chain[0].id, [authority.did]));
    assertEquals((await (await handler(new Request("http://x/auth"))).json()).revocations, 1);
    // Idempotent.
    assertEquals((await post(handler, encodeContainer([revocation.bytes]))).status, 201);
    // Bad bodies.
    const notRevocation = invoke(authority, {
      sub: authority.did,
      cmd: "/macula/pubsub/publish",
      args: { name: "x" },
      prf: [],
    });
    const bad: Array<[string, number]> = [
      ["", 400],
      ["not a container", 400],
      [encodeContainer([chain[0].bytes]), 400], // a delegation, not an invocation
      [encodeContainer([notRevocation.bytes]), 400],
      [encodeContainer([revocation.bytes, revoke(authority, notRevocation.cid).bytes]), 400],
      ["C" + "A".repeat(70_000), 413],
    ];
    for (const [body, status] of bad) {
      const res = await post(handler, body);
      assertEquals(res.status, status, body.slice(0, 40));
      const doc = await res.json();
      assert(typeof doc.error === "string" && !doc.error.includes("\n") && doc.error.length > 0);
      assert(typeof doc.code === "string" && doc.code.startsWith("E_"), doc.code);
    }
    const wrongMethod = await handler(new Request("http://x/auth/revocations"));
    assertEquals(wrongMethod.status, 405);
    await wrongMethod.body?.cancel();
    assertEquals((await handler(new Request("http://x/auth", { method: "DELETE" }))).status, 405);
  } finally {
    await node.stop();
  }
});
