/**
 * The WebSocket link between real nodes, through a real status server's
 * `/macula/ws` route: streams both ways, a large transfer, the wrong did
 * refused, a text frame / garbage / oversize message closing only that
 * connection, and a 10,000-case fuzz of message sequences into an
 * accepting transport.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { readAll, testContext } from "../helpers/transport_context.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node } from "../../src/api/node.ts";
import { statusHandler } from "../../src/http/status-server.ts";
import { tokenGate } from "../../src/http/token-gate.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import type { HttpServer, RequestInfo, WebSocketLike } from "../../src/platform/types.ts";
import { parseAddress } from "../../src/transport/address.ts";
import { DialError, PeerIdMismatchError } from "../../src/transport/errors.ts";
import { type WebSocketConstructor, WebSocketTransport, WS_PATH } from "../../src/transport/websocket.ts";
import { MaculaError } from "../../src/util/errors.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/**
 * A node with only the ws link, served by a status server (the token gate
 * on, as off loopback: /macula/ws must stay open). The server is bound
 * first, so the node announces its ws address from the start.
 */
async function wsNode(): Promise<{ node: Node; ws: WebSocketTransport; server: HttpServer; addr: string }> {
  const ws = new WebSocketTransport();
  const http = currentPlatform().http;
  const late: { handler?: (request: Request, info?: RequestInfo) => Promise<Response> } = {};
  const server = await http.serve(
    { hostname: "127.0.0.1", port: 0 },
    (request, info) => late.handler ? late.handler(request, info) : new Response("starting", { status: 503 }),
  );
  ws.advertise(server.addr);
  const node = await Node.start({ keyPair: KeyPair.generate(), logger: Logger.silent(), transports: [ws] });
  const route = ws.route(http);
  late.handler = tokenGate(
    "secret-token-for-the-console",
    "test",
    statusHandler(node, [(request, url, context) => route(request, url, context.remote)], { loopback: false }),
  );
  const addr = node.addrs.find((a) => a.startsWith("ws://"))!;
  return { node, ws, server, addr };
}

async function stopAll(...nodes: Array<{ node: Node; server: HttpServer }>): Promise<void> {
  for (const n of nodes) {
    await n.node.stop();
    await n.server.close();
  }
}

/** A raw WebSocket to `addr`'s `/macula/ws`, open. */
async function rawSocket(addr: string): Promise<WebSocket> {
  const a = parseAddress(addr);
  if (a.type !== "direct") throw new Error("direct address expected");
  const socket = new WebSocket(`ws://${a.host}:${a.port}${WS_PATH}`);
  socket.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return socket;
}

function closedWith(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.addEventListener("close", (e) => resolve(e.code)));
}

Deno.test({
  name: "ws: two nodes through a status server — requests and streams both ways, 64 MiB intact, ws address announced",
  ...opts,
  async fn() {
    const a = await wsNode();
    const b = await wsNode();
    try {
      assert(a.addr, `A announces a ws address: ${a.node.addrs.join(" ")}`);
      const conn = await b.node.connect(a.addr);
      assertEquals(conn.transport, "ws");
      assertEquals(conn.route, "direct");
      a.node.expose("echo", (from, x) => ({ from: from.did, x }));
      b.node.expose("echo", (from, x) => ({ from: from.did, x }));
      assertEquals(await b.node.request(a.node.id, "echo", 1), { from: b.node.did, x: 1 });
      assertEquals(await a.node.request(b.node.id, "echo", 2), { from: a.node.did, x: 2 });

      const size = 64 * 1024 * 1024;
      const expected = createHash("sha256");
      a.node.handle("/test/sink/1", async (stream) => {
        const hash = createHash("sha256");
        let n = 0;
        for (let c = await stream.read(); c !== null; c = await stream.read()) hash.update(c), n += c.length;
        await stream.write(new TextEncoder().encode(`${n} ${hash.digest("hex")}`));
        await stream.closeWrite();
      });
      const s = await conn.openStream("/test/sink/1");
      const t0 = performance.now();
      for (let sent = 0; sent < size; sent += 256 * 1024) {
        const chunk = new Uint8Array(256 * 1024); // a fresh one: the stream may keep a reference until it is sent
        chunk[0] = sent & 0xff;
        chunk[1] = (sent >> 8) & 0xff;
        chunk[2] = (sent >> 16) & 0xff;
        expected.update(chunk);
        await s.write(chunk);
      }
      await s.closeWrite();
      const reply = new TextDecoder().decode(await readAll(s));
      console.log(`ws: 64 MiB in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      assertEquals(reply, `${size} ${expected.digest("hex")}`);
    } finally {
      await stopAll(a, b);
    }
  },
});

Deno.test({
  name: "ws: dialing with the wrong did fails with PeerIdMismatchError; the node keeps serving",
  ...opts,
  async fn() {
    const a = await wsNode();
    const ctx = testContext();
    const dialer = new WebSocketTransport();
    await dialer.start(ctx);
    try {
      const other = new NodeId(KeyPair.generate().publicKey);
      await assertRejects(() => dialer.dial(parseAddress(a.addr), other), PeerIdMismatchError);
      const ok = await dialer.dial(parseAddress(a.addr), a.node.id);
      assert(ok.remoteId.equals(a.node.id));
    } finally {
      await dialer.close();
      await stopAll(a);
    }
  },
});

Deno.test({
  name: "ws: a text frame, garbage binary or an oversize message closes only that socket; others keep working",
  ...opts,
  async fn() {
    const a = await wsNode();
    const b = await wsNode();
    try {
      await b.node.connect(a.addr);
      a.node.expose("echo", (_from, x) => x);

      const text = await rawSocket(a.addr);
      const textClosed = closedWith(text);
      text.send("hello");
      assertEquals(await textClosed, 1003);

      const big = await rawSocket(a.addr);
      const bigClosed = closedWith(big);
      big.send(new Uint8Array(200_000));
      assertEquals(await bigClosed, 1009);
      assertEquals(a.ws.violations, 2);

      const failures = () => a.node.metrics.registry.render().match(/macula_handshake_failures_total\{[^}]*\} (\d+)/);
      const garbage = await rawSocket(a.addr);
      const garbageClosed = closedWith(garbage);
      garbage.send(crypto.getRandomValues(new Uint8Array(600)));
      garbage.close();
      await garbageClosed;
      await until(() => failures() !== null, 5_000, "the garbage handshake counted as failed");

      // The authenticated connection was not touched, and new ones are accepted.
      assertEquals(await b.node.request(a.node.id, "echo", "still here"), "still here");
      const c = await wsNode();
      try {
        await c.node.connect(a.addr);
        assertEquals(await c.node.request(a.node.id, "echo", "new"), "new");
      } finally {
        await stopAll(c);
      }
      const plain = await fetch(`http://${a.server.addr.hostname}:${a.server.addr.port}${WS_PATH}`);
      assertEquals(plain.status, 426, "a plain GET is told to upgrade");
      await plain.body?.cancel();
    } finally {
      await stopAll(a, b);
    }
  },
});

/** A server-side socket driven by the test: messages in, what the transport sends and how it closes out. */
class ScriptedSocket implements WebSocketLike {
  binaryType: "arraybuffer" | "blob" = "blob";
  readyState = 1;
  bufferedAmount = 0;
  closeCode: number | null = null;
  sent = 0;
  onopen: ((event: Event) => unknown) | null = null;
  onmessage: ((event: MessageEvent) => unknown) | null = null;
  onclose: ((event: CloseEvent) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  send(): void {
    this.sent++;
  }
  close(code = 1005): void {
    if (this.readyState === 3) return;
    this.closeCode = code;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code } as CloseEvent));
  }
  deliver(data: unknown): void {
    if (this.readyState === 1) this.onmessage?.({ data } as MessageEvent);
  }
  peerClose(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code: 1000 } as CloseEvent);
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test({
  name: "ws: 10,000 random message sequences into an accepting transport end in a typed error or a clean close",
  ...opts,
  async fn() {
    const ctx = testContext();
    const refused: string[] = [];
    ctx.onHandshakeRefused = (reason) => void refused.push(reason);
    const ws = new WebSocketTransport({ inboundHandshakeBudget: 2_000, maxPendingHandshakesPerSource: 1_000 });
    await ws.start(ctx);
    const random = rng(15);
    const cases = 10_000;
    let violations = 0;
    let untyped = 0;
    try {
      for (let batch = 0; batch < cases; batch += 100) {
        const sockets: ScriptedSocket[] = [];
        for (let i = batch; i < batch + 100; i++) {
          const socket = new ScriptedSocket();
          sockets.push(socket);
          ws.accept(socket, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:4000`);
          const n = Math.floor(random() * 5);
          for (let m = 0; m < n; m++) {
            const kind = random();
            if (kind < 0.1) socket.deliver("text " + m);
            else if (kind < 0.15) socket.deliver(new ArrayBuffer(70_000 + Math.floor(random() * 10)));
            else if (kind < 0.2) socket.deliver(new Blob([new Uint8Array(3)]));
            else if (kind < 0.25) socket.deliver(new ArrayBuffer(0));
            else {
              const bytes = new Uint8Array(Math.floor(random() * 200));
              for (let j = 0; j < bytes.length; j++) bytes[j] = random() * 256;
              if (bytes.length >= 2 && random() < 0.5) bytes[0] = 0, bytes[1] = bytes.length - 2; // a plausible Noise length
              socket.deliver(bytes.buffer);
            }
          }
          socket.peerClose();
        }
        const before = ctx.handshakeErrors.length;
        await until(() => ctx.handshakeErrors.length - before === sockets.length, 5_000, `batch ${batch} settles`);
        for (const e of ctx.handshakeErrors.slice(before)) if (!(e instanceof MaculaError)) untyped++;
        violations += sockets.filter((s) => s.closeCode !== null && s.closeCode !== 1000 && s.closeCode !== 1005)
          .length;
      }
      assertEquals(ctx.inbound.length, 0, "random bytes never authenticate");
      assertEquals(untyped, 0, "every failure is a typed MaculaError");
      assertEquals(refused, [], "no case was refused admission");
      assertEquals(ws.violations, violations, "each rule violation counted once");
      assert(violations > 1_000, `violations exercised (${violations})`);
    } finally {
      await ws.close();
    }
  },
});

Deno.test({
  name:
    "ws: dialing nothing fails with DialError; wss:// and IPv6 addresses become the right URLs; no WebSocket, DialError",
  ...opts,
  async fn() {
    const dialer = new WebSocketTransport({ handshakeTimeout: 3_000 });
    await dialer.start(testContext());
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (free.addr as Deno.NetAddr).port;
    free.close();
    const id = new NodeId(KeyPair.generate().publicKey);
    try {
      await assertRejects(() => dialer.dial(parseAddress(`ws://127.0.0.1:${port}/${id.did}`), id), DialError);
    } finally {
      await dialer.close();
    }

    const urls: string[] = [];
    const recording = new WebSocketTransport({
      WebSocket: class {
        constructor(url: string) {
          urls.push(url);
          throw new SyntaxError("not dialing in this test");
        }
      } as unknown as WebSocketConstructor,
    });
    await recording.start(testContext());
    assert(recording.canDial(parseAddress(`wss://gw.example.org/${id.did}`)));
    assert(!recording.canDial(parseAddress(`tcp://127.0.0.1:1/${id.did}`)));
    await assertRejects(() => recording.dial(parseAddress(`wss://gw.example.org/${id.did}`), id), DialError);
    await assertRejects(() => recording.dial(parseAddress(`ws://[::1]:8080/${id.did}`), id), DialError);
    assertEquals(urls, ["wss://gw.example.org/macula/ws", "ws://[::1]:8080/macula/ws"]);
    await recording.close();

    const global = globalThis as { WebSocket?: unknown };
    const saved = global.WebSocket;
    global.WebSocket = undefined;
    try {
      const none = new WebSocketTransport();
      await none.start(testContext());
      assert(!none.canDial(parseAddress(`ws://127.0.0.1:1/${id.did}`)), "nothing to dial with: not offered");
      await assertRejects(() => none.dial(parseAddress(`ws://127.0.0.1:1/${id.did}`), id), DialError, "no WebSocket");
    } finally {
      global.WebSocket = saved;
    }
  },
});

Deno.test({
  name: "ws: inbound handshakes pass the TCP admission limits (per source, then the deadline)",
  ...opts,
  async fn() {
    const ctx = testContext();
    const refused: string[] = [];
    ctx.onHandshakeRefused = (reason, _remote, transport) => void refused.push(`${transport}:${reason}`);
    const ws = new WebSocketTransport({ maxPendingHandshakesPerSource: 2, inboundHandshakeBudget: 200 });
    await ws.start(ctx);
    try {
      const sockets = [0, 1, 2].map(() => new ScriptedSocket());
      for (const s of sockets) ws.accept(s, "192.0.2.7:5000");
      assertEquals(sockets[2].closeCode, 1013, "the third from one source is turned away at once");
      assertEquals(refused, ["ws:source-limit"]);
      const other = new ScriptedSocket();
      ws.accept(other, "192.0.2.8:5000");
      assertEquals(other.closeCode, null, "another source is admitted");
      await until(() => refused.filter((r) => r === "ws:deadline").length === 3, 3_000, "silent handshakes cut off");
      assert(sockets[0].closeCode !== null && other.closeCode !== null, "cut-off sockets are closed");
    } finally {
      await ws.close();
    }
  },
});
