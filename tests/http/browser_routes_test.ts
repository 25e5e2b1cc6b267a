/**
 * `/macula.js` and `/macula/gateway` on a real status server: the library
 * is served (gzip or plain, cacheable by ETag, CORS), open without the
 * console token even where the server requires one, and the gateway
 * description names the node and the host the client used.
 */
import { decodeGatewayInfo } from "../../src/browser/gateway.ts";
import { MACULA_JS_GZIP } from "../../src/browser/bundle.gen.ts";
import { browserRoutes } from "../../src/http/browser-routes.ts";
import { startStatusServer } from "../../src/http/status-server.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";

Deno.test("browser routes: /macula.js (gzip, plain, ETag 304, HEAD, CORS) and /macula/gateway, open past the token", async () => {
  await using node = await memoryNode(new MemoryNetwork(), { realms: ["lab", "default"] });
  const server = await startStatusServer(node, currentPlatform().http, "127.0.0.1", 0, {
    routes: [browserRoutes(node)],
    token: "t0ken-for-the-console",
    requireToken: true,
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const status = await fetch(`${base}/status`);
    await status.body?.cancel();
    assertEquals(status.status, 401, "the token still guards everything else");

    const js = await fetch(`${base}/macula.js`);
    assertEquals(js.status, 200);
    assertEquals(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assertEquals(js.headers.get("access-control-allow-origin"), "*");
    const text = await js.text(); // fetch decompresses gzip
    assert(text.length > 100_000 && /\bexport\s*\{/.test(text), "an ES module");
    assert(!/["']node:[a-z]/.test(text), "no Node built-ins in the bundle");
    const etag = js.headers.get("etag")!;
    assert(/^"[0-9a-f]{8}"$/.test(etag), etag);

    const again = await fetch(`${base}/macula.js`, { headers: { "if-none-match": etag } });
    assertEquals(again.status, 304);
    await again.body?.cancel();
    const head = await fetch(`${base}/macula.js`, { method: "HEAD" });
    assertEquals(head.status, 200);
    await head.body?.cancel();
    const post = await fetch(`${base}/macula.js`, { method: "POST" });
    assertEquals(post.status, 405);
    await post.body?.cancel();

    // the raw gzip body is the embedded build, byte for byte
    const raw = Uint8Array.from(atob(MACULA_JS_GZIP), (c) => c.charCodeAt(0));
    const plain = await new Response(new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
    assertEquals(text, plain);

    const gw = await fetch(`${base}/macula/gateway`);
    assertEquals(gw.status, 200);
    const info = decodeGatewayInfo(await gw.json());
    assertEquals(info, {
      id: node.did,
      ws: `ws://127.0.0.1:${server.addr.port}/${node.did}`,
      realms: ["lab", "default"],
    });
  } finally {
    await server.close();
  }
});

Deno.test("browser routes: a node without the WebSocket link answers /macula/gateway 503 E_NO_GATEWAY", async () => {
  await using node = await memoryNode(new MemoryNetwork());
  const server = await startStatusServer(node, currentPlatform().http, "127.0.0.1", 0, {
    routes: [browserRoutes(node, { gateway: false })],
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/macula/gateway`);
    assertEquals(res.status, 503);
    const body = await res.json();
    assertEquals(body.code, "E_NO_GATEWAY");
    assert(body.error.includes("--no-ws"), body.error);
    const js = await fetch(`http://127.0.0.1:${server.addr.port}/macula.js`);
    assertEquals(js.status, 200, "the library is still served");
    await js.body?.cancel();
  } finally {
    await server.close();
  }
});
