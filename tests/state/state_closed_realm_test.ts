/**
 * Replicated state in a closed realm: writers need `/macula/state/write`;
 * a node without it cannot write locally, and writes pushed by a node that
 * has no capability are dropped and counted by every receiver.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { MemoryNetwork, until } from "../helpers/nodes.ts";
import { NotAuthorizedError } from "../../src/node/authorize.ts";
import { closedMesh, grant, newSigner, REALM, sleep, stopAll } from "../auth/helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "state: in a closed realm only capability holders write; a refused remote write is dropped and counted",
  ...opts,
  async fn() {
    const authority = newSigner();
    // a and b hold /macula/state/write; c holds nothing; d runs without auth (thinks the realm open) and pushes anyway.
    const nodes = await closedMesh(new MemoryNetwork(), authority, 4, (i) => i === 3 ? { auth: false } : {}, "star");
    const [a, b] = nodes;
    try {
      a.auth.addChain(grant(authority, a, "/macula/state/write"));
      b.auth.addChain(grant(authority, b, "/macula/state"));
      const [ma, mb, mc, md] = await Promise.all(nodes.map((n) => n.state.open("fleet", { realm: REALM })));
      assert(ma.writable && mb.writable && !mc.writable && md.writable);
      assertThrows(() => mc.set("x", 1), NotAuthorizedError);
      ma.set("config", "v1");
      await until(() => mb.get("config") === "v1", 5000, "a's write reaches b (through a)");
      md.set("config", "forged");
      md.set("evil", true);
      await until(() => a.state.status().refused as number > 0, 5000, "a refuses d's push");
      await sleep(200);
      assertEquals(ma.get("config"), "v1");
      assertEquals(ma.has("evil"), false);
      assertEquals(mb.has("evil"), false);
      assert(a.metrics.registry.render().includes("macula_state_refused_total"), "refusals in the metrics");
      // A writable node's later write still wins everywhere it is admitted.
      mb.set("config", "v2");
      await until(() => ma.get("config") === "v2", 5000, "b's write reaches a");
    } finally {
      await stopAll(nodes);
    }
  },
});
