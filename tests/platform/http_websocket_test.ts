/**
 * The platform's HTTP server (Deno here; the Node platform is checked under
 * Node by tests/cross-compile/node_platform_check.ts): handlers learn the
 * client's address, and upgrade a request to a WebSocket that satisfies
 * `WebSocketLike`.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { isWebSocketUpgrade, type RequestInfo, type WebSocketLike } from "../../src/platform/types.ts";

Deno.test("platform http: the handler gets the client's address; a WebSocket upgrade echoes binary and text", async () => {
  const http = currentPlatform().http;
  const seen: RequestInfo[] = [];
  const server = await http.serve({ hostname: "127.0.0.1", port: 0 }, (request, info) => {
    if (info) seen.push(info);
    if (!isWebSocketUpgrade(request)) return new Response("plain");
    const { socket, response } = http.upgradeWebSocket!(request);
    const ws: WebSocketLike = socket;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => ws.send(typeof e.data === "string" ? `text:${e.data}` : new Uint8Array(e.data).reverse());
    return response;
  });
  try {
    const plain = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assertEquals(await plain.text(), "plain");
    assertEquals(seen[0].remoteAddr.hostname, "127.0.0.1");
    assert(seen[0].remoteAddr.port > 0);
    assertThrows(() => http.upgradeWebSocket!(new Request("http://x/")), TypeError);

    const client = new WebSocket(`ws://127.0.0.1:${server.addr.port}/macula/ws`);
    client.binaryType = "arraybuffer";
    const replies: unknown[] = [];
    const two = new Promise<void>((resolve) => {
      client.onmessage = (e) => {
        replies.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
        if (replies.length === 2) resolve();
      };
    });
    await new Promise((resolve) => client.onopen = resolve);
    client.send(new Uint8Array([1, 2, 3]));
    client.send("hi");
    await two;
    assertEquals(replies, [[3, 2, 1], "text:hi"]);
    const closed = new Promise((resolve) => client.onclose = resolve);
    client.close();
    await closed;
  } finally {
    await server.close();
  }
});
