/**
 * The `/state` routes (`macula state`) on a real node in memory: set, get,
 * delete, a watch streamed as JSON lines, the loopback rule and bad input.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";
import { stateRoutes } from "../../src/http/state-routes.ts";
import { statusHandler } from "../../src/http/status-server.ts";

const post = (h: (r: Request) => Promise<Response>, path: string, body: unknown) =>
  h(new Request(`http://x${path}`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) }));

Deno.test({
  name: "state routes: set, get, delete, watch; refused off loopback; bad input is a 400 with a code",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await memoryNode(new MemoryNetwork());
    try {
      const h = statusHandler(node, [stateRoutes(node.state)], { loopback: true });
      const watch = await h(new Request("http://x/state/watch?name=fleet&key=mode"));
      assertEquals(watch.status, 200);
      const reader = watch.body!.pipeThrough(new TextDecoderStream()).getReader();
      assertEquals((await post(h, "/state/set", { name: "fleet", key: "other", value: 1 })).status, 200);
      assertEquals((await post(h, "/state/set", { name: "fleet", key: "mode", value: { a: 1 } })).status, 200);
      const line = JSON.parse((await reader.read()).value!.trim());
      assertEquals([line.key, line.value, line.local], ["mode", { a: 1 }, true]);
      await reader.cancel();
      const got = await (await h(new Request("http://x/state/get?name=fleet&key=mode"))).json();
      assertEquals([got.found, got.value, got.realm], [true, { a: 1 }, node.realms[0]]);
      const all = await (await h(new Request("http://x/state/get?name=fleet"))).json();
      assertEquals(all.entries, { other: 1, mode: { a: 1 } });
      assertEquals(await (await post(h, "/state/delete", { name: "fleet", key: "mode" })).json(), {
        realm: node.realms[0],
        name: "fleet",
        key: "mode",
        deleted: true,
      });
      const bad: Array<[Promise<Response>, number, string]> = [
        [post(h, "/state/set", { name: "../x", key: "k", value: 1 }), 400, "E_STATE_NAME"],
        [post(h, "/state/set", { name: "fleet", key: "", value: 1 }), 400, "E_BAD_REQUEST"],
        [post(h, "/state/set", { name: "fleet", key: "k" }), 400, "E_BAD_REQUEST"],
        [post(h, "/state/set", { name: "fleet", key: "k".repeat(300), value: 1 }), 400, "E_STATE_KEY"],
        [post(h, "/state/set", { name: "fleet", key: "k", value: "x".repeat(20_000) }), 400, "E_STATE_VALUE"],
        [post(h, "/state/set", "{nope"), 400, "E_BAD_REQUEST"],
        [post(h, "/state/set", { name: "fleet", key: "k", value: 1, realm: "elsewhere" }), 400, "E_STATE_REALM"],
        [h(new Request("http://x/state/get")), 400, "E_BAD_REQUEST"],
      ];
      for (const [res, status, code] of bad) {
        const r = await res;
        const body = await r.json();
        assertEquals([r.status, body.code], [status, code], JSON.stringify(body));
      }
      assertEquals((await h(new Request("http://x/state/set"))).status, 405);
      const off = statusHandler(node, [stateRoutes(node.state)], { loopback: false });
      const refused = await off(new Request("http://x/state/get?name=fleet"));
      await refused.body?.cancel();
      assert(refused.status === 401 || refused.status === 403, String(refused.status));
    } finally {
      await node.stop();
    }
  },
});
