/**
 * The `/registry` routes over a real HTTP server and a real node's registry:
 * publish, list, one version, latest, install; error codes and statuses;
 * the loopback rule; self-update answered only where the server offers it.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork } from "../helpers/nodes.ts";
import { registryRoutes } from "../../src/http/registry-routes.ts";
import { statusHandler } from "../../src/http/status-server.ts";
import type { NodeCore } from "../../src/node/node.ts";
import type { Node } from "../../src/api/node.ts";
import { SelfUpdateError } from "../../src/registry/self-update.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function serve(node: Node, loopback = true, selfUpdate?: (channel: string) => Promise<unknown>) {
  const handler = statusHandler({} as NodeCore, [registryRoutes(node.registry, { selfUpdate })], { loopback });
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(a.port) }, handler);
  return { base: `http://127.0.0.1:${await ready.promise}`, close: () => server.shutdown() };
}

Deno.test({
  name: "registry routes: publish, list, info, install, errors and the loopback rule",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 2);
    const dir = await Deno.makeTempDir({ prefix: "macula-registry-routes-" });
    const local = await serve(nodes[0]);
    const remote = await serve(nodes[1], false);
    try {
      const post = (base: string, path: string, body?: string) => fetch(base + path, { method: "POST", body });
      const pub = await post(local.base, "/registry/io.acme.agent?version=1.0.0&arch=x86_64&notes=hi", "one");
      assertEquals(pub.status, 201);
      assertEquals((await pub.json()).version, "1.0.0");
      assertEquals((await post(local.base, "/registry/io.acme.agent?version=1.1.0", "two")).status, 201);
      const list = await (await fetch(`${local.base}/registry/io.acme.agent`)).json();
      assertEquals(list.map((r: { version: string }) => r.version), ["1.1.0", "1.0.0"]);
      assertEquals((await (await fetch(`${local.base}/registry/io.acme.agent/latest`)).json()).version, "1.1.0");
      assertEquals((await (await fetch(`${local.base}/registry/io.acme.agent/1.0.0`)).json()).notes, "hi");
      const missing = await fetch(`${local.base}/registry/io.acme.agent/9.0.0`);
      assertEquals([missing.status, (await missing.json()).code], [404, "E_RELEASE_NOT_FOUND"]);
      const bad = await post(local.base, "/registry/io.acme.agent?version=1.0", "x");
      assertEquals([bad.status, (await bad.json()).code], [400, "E_RELEASE_INVALID"]);
      const noVersion = await post(local.base, "/registry/io.acme.agent", "x");
      assertEquals(noVersion.status, 400);
      await noVersion.body?.cancel();
      for (const path of ["/registry/acme", "/registry/io.acme.agent/1.0.0/x", "/registry/"]) {
        const r = await fetch(local.base + path);
        assertEquals(r.status, 400, path);
        await r.body?.cancel();
      }
      const inst = await post(local.base, `/registry/io.acme.agent/install?version=1.0.0&dir=${dir}`);
      const done = await inst.json();
      assertEquals(done.path, `${dir}/io.acme.agent@1.0.0`);
      assertEquals(await Deno.readTextFile(done.path), "one");
      // off loopback: reading works, changing does not
      assertEquals((await (await fetch(`${remote.base}/registry/io.acme.agent`)).json()).length, 2);
      const refused = await post(remote.base, "/registry/io.acme.agent?version=2.0.0", "x");
      assertEquals(refused.status, 403);
      await refused.body?.cancel();
      // self-update: 501 where the server does not offer it
      const su = await post(local.base, "/registry/self-update?channel=stable");
      assertEquals(su.status, 501);
      await su.body?.cancel();
    } finally {
      await local.close();
      await remote.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "registry routes: self-update answers the update's result, or its error with code",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 1);
    const calls: string[] = [];
    const ok = await serve(nodes[0], true, (channel) => {
      calls.push(channel);
      return Promise.resolve({ updated: false, from: "0.1.0", to: "0.1.0" });
    });
    const failing = await serve(nodes[0], true, () => {
      throw new SelfUpdateError("E_SELF_UPDATE_HEALTH", "candidate failed its health check");
    });
    try {
      const r = await fetch(`${ok.base}/registry/self-update?channel=beta`, { method: "POST" });
      assertEquals(await r.json(), { updated: false, from: "0.1.0", to: "0.1.0" });
      assertEquals(calls, ["beta"]);
      const f = await fetch(`${failing.base}/registry/self-update`, { method: "POST" });
      const body = await f.json();
      assertEquals([f.status, body.code], [422, "E_SELF_UPDATE_HEALTH"]);
      assert(body.error.includes("health check"));
    } finally {
      await ok.close();
      await failing.close();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});
