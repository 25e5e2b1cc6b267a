/**
 * The `/pubsub` and `/rpc` routes (`macula pub|sub|call --as-node`) over two
 * real nodes in memory: a subscription streamed as JSON lines, a publish
 * through the other node, calls (a result, a refusal with its code), the
 * loopback rule and bad input.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, until } from "../helpers/nodes.ts";
import { type MeshApi, meshRoutes } from "../../src/http/mesh-routes.ts";
import { statusHandler } from "../../src/http/status-server.ts";
import type { Node } from "../../src/api/node.ts";

function api(node: Node): MeshApi {
  return {
    realms: node.realms,
    publish: (t, p, o) => node.publish(t, p, o),
    subscribe: (p, _h, o) => node.subscribe(p, undefined, o),
    call: (p, a, o) => node.call(p, a, o),
    whenAnnounced: () => node.pubsub.whenAnnounced(),
    flush: () => node.pubsub.flush(),
  };
}

const post = (h: (r: Request) => Promise<Response>, path: string, body: unknown) =>
  h(new Request(`http://x${path}`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) }));

Deno.test("mesh routes: subscribe streams JSON lines, publish reaches it, call answers or is refused with a code", async () => {
  const [a, b] = await joinedNodes(new MemoryNetwork(), 2);
  try {
    const ha = statusHandler(a, [meshRoutes(api(a))], { loopback: true });
    const hb = statusHandler(b, [meshRoutes(api(b))], { loopback: true });
    b.advertise("io.acme.echo", (args, call) => ({ args, from: call.from.did }));
    b.advertise("io.acme.secret", () => 1, { authorize: () => false });
    const sub = await hb(new Request("http://x/pubsub/subscribe?pattern=io.acme.>"));
    assertEquals(sub.status, 200);
    assertEquals(sub.headers.get("x-macula-realm"), b.realms[0]);
    const reader = sub.body!.pipeThrough(new TextDecoderStream()).getReader();
    let published: { subscribers: number } = { subscribers: 0 };
    await until(
      async () => {
        const res = await post(ha, "/pubsub/publish", { topic: "io.acme.temp", payload: { c: 21 } });
        published = await res.json();
        return published.subscribers === 1;
      },
      5000,
      "b's subscription to reach a",
    );
    const line = JSON.parse((await reader.read()).value!.split("\n")[0]);
    assertEquals(line.topic, "io.acme.temp");
    assertEquals(line.payload, { c: 21 });
    assertEquals(line.publisher, a.did);
    assertEquals(line.realm, b.realms[0]);
    await reader.cancel(); // the client leaves: the node unsubscribes
    const patterns = () => (b.pubsub.status().subscriptions as Record<string, string[]>)[b.realms[0]];
    await until(() => patterns().length === 0, 2000, "the subscription to end with the stream");
    const called = await post(ha, "/rpc/call", { procedure: "io.acme.echo", args: { q: 1 } });
    assertEquals(called.status, 200);
    assertEquals(await called.json(), { result: { args: { q: 1 }, from: a.did } });
    const refused = await post(ha, "/rpc/call", { procedure: "io.acme.secret", args: null });
    assertEquals(refused.status, 403);
    assertEquals((await refused.json()).code, "E_NOT_AUTHORIZED");
    const none = await post(ha, "/rpc/call", { procedure: "io.acme.none", args: null, timeout: 500 });
    assertEquals(none.status, 502);
    assert((await none.json()).code.startsWith("E_"));
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("mesh routes: loopback only; bad bodies are 400; other paths pass through", async () => {
  const [a] = await joinedNodes(new MemoryNetwork(), 1);
  try {
    const remote = statusHandler(a, [meshRoutes(api(a))], { loopback: false });
    for (const path of ["/pubsub/publish", "/rpc/call"]) {
      const res = await post(remote, path, { topic: "io.x.y", procedure: "io.x.y" });
      assertEquals(res.status, 403);
      assertEquals((await res.json()).code, "E_FORBIDDEN");
    }
    assertEquals((await remote(new Request("http://x/pubsub/subscribe?pattern=a"))).status, 403);
    const h = statusHandler(a, [meshRoutes(api(a))], { loopback: true });
    const bad: Array<[string, unknown]> = [
      ["/pubsub/publish", "{"],
      ["/pubsub/publish", "[]"],
      ["/pubsub/publish", { payload: 1 }],
      ["/pubsub/publish", { topic: "" }],
      ["/pubsub/publish", { topic: "io.x", realm: 5 }],
      ["/rpc/call", { args: 1 }],
      ["/rpc/call", { procedure: "io.x", timeout: -1 }],
      ["/rpc/call", { procedure: "io.x", timeout: "10" }],
      ["/pubsub/publish", "x".repeat(1024 * 1024 + 1)],
    ];
    for (const [path, body] of bad) {
      const res = await post(h, path, body);
      assertEquals(res.status, 400, `${path} ${String(JSON.stringify(body)).slice(0, 40)}`);
      assertEquals((await res.json()).code, "E_BAD_REQUEST");
    }
    assertEquals((await h(new Request("http://x/pubsub/subscribe"))).status, 400);
    assertEquals((await h(new Request("http://x/pubsub/publish"))).status, 405);
    assertEquals((await h(new Request("http://x/status"))).status, 200);
  } finally {
    await a.stop();
  }
});
