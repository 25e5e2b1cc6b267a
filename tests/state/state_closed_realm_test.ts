/**
 * Replicated state in a closed realm: writers need `/macula/state/write`,
 * readers `/macula/state/read`. A node without write cannot write locally;
 * writes pushed by a node without it are dropped and counted by every
 * receiver; a node without read gets nothing.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { MemoryNetwork, until } from "../helpers/nodes.ts";
import { NotAuthorizedError } from "../../src/node/authorize.ts";
import { closedMesh, grant, newSigner, REALM, sleep, stopAll } from "../auth/helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "state: in a closed realm only capability holders write and read; refused writes are dropped and counted",
  ...opts,
  async fn() {
    const authority = newSigner();
    // a: write + read (two chains); b: /macula/state; c: read only; d: runs without auth (thinks the realm open)
    // and pushes anyway; e: nothing.
    const nodes = await closedMesh(new MemoryNetwork(), authority, 5, (i) => i === 3 ? { auth: false } : {}, "star");
    const [a, b, c] = nodes;
    try {
      a.auth.addChain(grant(authority, a, "/macula/state/write"));
      a.auth.addChain(grant(authority, a, "/macula/state/read"));
      b.auth.addChain(grant(authority, b, "/macula/state"));
      c.auth.addChain(grant(authority, c, "/macula/state/read"));
      const [ma, mb, mc, md, me] = await Promise.all(nodes.map((n) => n.state.open("fleet", { realm: REALM })));
      assert(ma.writable && mb.writable && !mc.writable && md.writable && !me.writable);
      assertThrows(() => mc.set("x", 1), NotAuthorizedError);
      ma.set("config", "v1");
      await until(() => mb.get("config") === "v1" && mc.get("config") === "v1", 5000, "a's write reaches b and c");
      md.set("config", "forged");
      md.set("evil", true);
      await until(() => (a.state.status().refused as number) > 0, 5000, "a refuses d's push");
      await sleep(200);
      assertEquals(ma.get("config"), "v1");
      assertEquals([ma.has("evil"), mb.has("evil"), mc.has("evil")], [false, false, false]);
      assertEquals(me.size, 0, "e may not read: it got nothing");
      assertEquals(md.has("config") && md.get("config") !== "v1", true, "d got nothing of a's");
      assert((a.state.status().refusedReads as number) > 0, "a refused syncs of d and e");
      const metrics = a.metrics.registry.render();
      assert(metrics.includes('macula_state_refused_total{op="write"}'), "write refusals in the metrics");
      assert(metrics.includes('macula_state_refused_total{op="read"}'), "read refusals in the metrics");
      // A writer's later write still wins everywhere it is admitted.
      mb.set("config", "v2");
      await until(() => ma.get("config") === "v2" && mc.get("config") === "v2", 5000, "b's write reaches a and c");
    } finally {
      await stopAll(nodes);
    }
  },
});
