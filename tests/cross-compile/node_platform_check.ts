/**
 * Conformance checks of the Node platform (src/platform/node.ts), run
 * UNDER NODE by node_platform_test.ts after bundling this file with esbuild.
 * Real sockets, real files. Exits 0 and prints "all checks passed", or
 * throws (non-zero exit) at the first failed check.
 */
import assert from "node:assert/strict";
import { FsContentStore } from "../../src/content/fs-store.ts";
import { groupCount } from "../../src/content/tree.ts";
import { createNodePlatform } from "../../src/platform/node.ts";
import type { TcpSocket } from "../../src/platform/types.ts";
import { WebSocket as NodeWsClient } from "npm:ws@8.23.1";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import type { Connection } from "../../src/transport/connection.ts";
import type { TransportContext } from "../../src/transport/transport.ts";
import { type WebSocketConstructor, WebSocketTransport, WS_PATH } from "../../src/transport/websocket.ts";

const platform = createNodePlatform();
const step = (name: string) => platform.process.stdout(`check: ${name}\n`);

async function readAll(socket: TcpSocket, bufferSize: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(bufferSize);
  while (true) {
    const n = await socket.read(buffer);
    if (n === null) break;
    assert.ok(n > 0 && n <= bufferSize, `read returned ${n}`);
    parts.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) out.set(p, off), off += p.length;
  return out;
}

async function tcp(): Promise<void> {
  step("tcp listen/connect/accept and addresses");
  const listener = await platform.tcp.listen({ hostname: "127.0.0.1", port: 0 });
  assert.equal(listener.addr.hostname, "127.0.0.1");
  assert.ok(listener.addr.port > 0);
  await assert.rejects(platform.tcp.listen({ hostname: "127.0.0.1", port: listener.addr.port }), /EADDRINUSE/);
  const [client, server] = await Promise.all([platform.tcp.connect(listener.addr), listener.accept()]);
  assert.equal(client.remoteAddr.port, listener.addr.port);
  assert.equal(server.remoteAddr.port, client.localAddr.port);

  step("tcp backpressure: writes stall while the peer does not read");
  const chunk = new Uint8Array(64 * 1024);
  const total = 64 * 1024 * 1024;
  let written = 0;
  const writer = (async () => {
    for (let i = 0; written < total; i++) {
      chunk.fill(i & 0xff); // reusing the buffer after write resolves must be safe
      await client.write(chunk);
      written += chunk.length;
    }
    await client.closeWrite();
  })();
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(written < 32 * 1024 * 1024, `writer ran ahead by ${written} bytes`);

  step("tcp partial reads into small buffers, in order, then EOF after closeWrite");
  const received = await readAll(server, 1000);
  await writer;
  assert.equal(received.length, total);
  for (let off = 0, i = 0; off < total; off += chunk.length, i++) {
    assert.equal(received[off], i & 0xff, `chunk ${i}`);
    assert.equal(received[off + chunk.length - 1], i & 0xff, `chunk ${i} end`);
  }

  step("tcp half-close: the other direction still works");
  await server.write(new TextEncoder().encode("bye"));
  await server.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(client, 64)), "bye");
  client.close();
  client.close(); // idempotent
  server.close();

  step("tcp connect to a closed port rejects; close() ends a pending accept");
  const pending = listener.accept();
  listener.close();
  await assert.rejects(pending, /closed/);
  await assert.rejects(platform.tcp.connect(listener.addr), /ECONNREFUSED/);
}

async function http(): Promise<void> {
  step("http: web Request/Response handlers, status codes, HEAD, bodies, errors");
  const server = await platform.http.serve({ hostname: "127.0.0.1", port: 0 }, async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/boom") throw new Error("handler failed");
    if (request.method === "POST") return new Response(`echo:${await request.text()}`, { status: 201 });
    return Response.json({ path: url.pathname, method: request.method }, { headers: { "x-test": "1" } });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const get = await fetch(`${base}/status`);
  assert.equal(get.status, 200);
  assert.equal(get.headers.get("x-test"), "1");
  assert.deepEqual(await get.json(), { path: "/status", method: "GET" });
  const head = await fetch(`${base}/status`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const post = await fetch(`${base}/x`, { method: "POST", body: "hello" });
  assert.equal(post.status, 201);
  assert.equal(await post.text(), "echo:hello");
  const boom = await fetch(`${base}/boom`);
  assert.equal(boom.status, 500);
  await boom.body?.cancel();
  await assert.rejects(platform.http.serve({ hostname: "127.0.0.1", port: server.addr.port }, () => new Response()));
  const t0 = Date.now();
  await server.close(); // with a keep-alive connection from fetch still open
  assert.ok(Date.now() - t0 < 3_000, "close does not hang on keep-alive connections");
  await assert.rejects(fetch(`${base}/status`));
}

function wsContext(): TransportContext & { inbound: Promise<Connection> } {
  const keyPair = KeyPair.generate();
  let arrived!: (c: Connection) => void;
  const inbound = new Promise<Connection>((resolve) => arrived = resolve);
  return {
    keyPair,
    localId: new NodeId(keyPair.publicKey),
    gate: (protocol) =>
      protocol === "/echo/1"
        ? async (stream) => {
          for (let c = await stream.read(); c !== null; c = await stream.read()) await stream.write(c);
          await stream.closeWrite();
        }
        : null,
    onInbound: arrived,
    inbound,
  };
}

async function websocket(): Promise<void> {
  step("websocket: upgrade on the HTTP server (npm ws), Noise + mux both ways, text frame closes, plain GET 426");
  const serverCtx = wsContext();
  const server = new WebSocketTransport({ listen: { http: platform.http, host: "127.0.0.1", port: 0 } });
  await server.start(serverCtx);
  const clientCtx = wsContext();
  const client = new WebSocketTransport({ WebSocket: NodeWsClient as unknown as WebSocketConstructor });
  await client.start(clientCtx);
  const addr = server.listenAddresses[0];
  assert.ok(addr.type === "direct" && addr.kind === "ws");
  const conn = await client.dial(addr, serverCtx.localId);
  const back = await serverCtx.inbound;
  assert.ok(back.remoteId.equals(clientCtx.localId), "the server learned the client's id");
  const stream = await conn.openStream("/echo/1");
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff);
  const writing = stream.write(big).then(() => stream.closeWrite());
  let n = 0;
  for (let c = await stream.read(); c !== null; c = await stream.read()) {
    for (let i = 0; i < c.length; i++) assert.equal(c[i], (n + i) & 0xff);
    n += c.length;
  }
  await writing;
  assert.equal(n, big.length);
  const reverse = await back.openStream("/echo/1");
  await reverse.write(new TextEncoder().encode("from the server"));
  await reverse.closeWrite();
  let text = "";
  for (let c = await reverse.read(); c !== null; c = await reverse.read()) text += new TextDecoder().decode(c);
  assert.equal(text, "from the server");

  const raw = new NodeWsClient(`ws://127.0.0.1:${addr.port}${WS_PATH}`);
  await new Promise((resolve, reject) => (raw.on("open", resolve), raw.on("error", reject)));
  const code = new Promise((resolve) => raw.on("close", resolve));
  raw.send("not binary");
  assert.equal(await code, 1003);
  assert.equal(server.violations, 1);
  const plain = await fetch(`http://127.0.0.1:${addr.port}${WS_PATH}`);
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
  const elsewhere = new NodeWsClient(`ws://127.0.0.1:${addr.port}/elsewhere`);
  const refused = await new Promise<Error>((resolve) => elsewhere.on("error", resolve));
  assert.match(refused.message, /404/, "an upgrade elsewhere gets the handler's 404");
  await client.close();
  await server.close();
}

async function fs(): Promise<void> {
  step("fs: mkdir mode, atomic write with mode, read, missing files");
  const base = platform.fs.join("/tmp", `macula-node-fs-${crypto.randomUUID()}`);
  const dir = platform.fs.join(base, "a", "b");
  await platform.fs.mkdir(dir, 0o700);
  await platform.fs.mkdir(dir, 0o700); // exists: no error
  assert.equal(await platform.fs.fileMode(dir), 0o700);
  const file = platform.fs.join(dir, "identity.key");
  await platform.fs.writeFileAtomic(file, new Uint8Array([1, 2, 3]), 0o600);
  await platform.fs.writeFileAtomic(file, new Uint8Array([4, 5]), 0o600);
  assert.deepEqual(await platform.fs.readFile(file), new Uint8Array([4, 5]));
  assert.equal(await platform.fs.fileMode(file), 0o600);
  assert.equal(await platform.fs.readFile(platform.fs.join(dir, "missing")), null);
  assert.equal(await platform.fs.fileMode(platform.fs.join(dir, "missing")), null);
  await assert.rejects(platform.fs.writeFileAtomic("/nonexistent-dir/x", new Uint8Array([1]), 0o600));
  assert.ok(platform.fs.resolve("x/y").endsWith("/x/y") && platform.fs.resolve("x/y").startsWith("/"));
  assert.equal(platform.fs.resolve("/abs"), "/abs");

  step("fs: positional handles (sparse, past 4 GiB offsets, concurrent), rename, remove, readDir, stat, readStream");
  const path = platform.fs.join(dir, "positional");
  const h = await platform.fs.open(path, { read: true, write: true, create: true });
  await h.writeAt(new Uint8Array([1, 2, 3]), 10);
  const buf = new Uint8Array(20);
  assert.equal(await h.readAt(buf, 8), 5);
  assert.deepEqual([...buf.subarray(0, 5)], [0, 0, 1, 2, 3]);
  const far = 5 * 1024 ** 3 + 1;
  await h.writeAt(new Uint8Array([9, 8]), far);
  assert.equal(await h.size(), far + 2);
  const two = new Uint8Array(2);
  assert.equal(await h.readAt(two, far), 2);
  assert.deepEqual([...two], [9, 8]);
  await Promise.all(Array.from({ length: 32 }, (_, i) => h.writeAt(new Uint8Array(1000).fill(i), i * 1000)));
  for (let i = 0; i < 32; i++) {
    const b = new Uint8Array(1000);
    await h.readAt(b, i * 1000);
    assert.ok(b.every((x) => x === i), `block ${i}`);
  }
  await h.sync();
  await h.truncate(5000);
  assert.equal(await h.size(), 5000);
  await h.close();
  await h.close();
  await assert.rejects(platform.fs.open(platform.fs.join(dir, "missing"), { read: true }));
  const created = await platform.fs.open(platform.fs.join(dir, "new"), { write: true, createNew: true });
  await created.close();
  await assert.rejects(platform.fs.open(platform.fs.join(dir, "new"), { write: true, createNew: true }));
  await platform.fs.rename(path, platform.fs.join(dir, "new"));
  assert.deepEqual((await platform.fs.readDir(dir))?.sort(), ["identity.key", "new"]);
  assert.equal(await platform.fs.readDir(platform.fs.join(dir, "missing")), null);
  const st = await platform.fs.stat(platform.fs.join(dir, "new"));
  assert.ok(st?.isFile && st.size === 5000 && !st.isDirectory && st.mtime > 0);
  assert.equal(await platform.fs.stat(platform.fs.join(dir, "missing")), null);
  const chunks: number[] = [];
  for await (const c of platform.fs.readStream(platform.fs.join(dir, "new"), 2048)) chunks.push(c.length);
  assert.deepEqual(chunks, [2048, 2048, 904]);
  const reader = platform.fs.readStream(platform.fs.join(dir, "new")).getReader();
  assert.equal((await reader.read()).value?.length, 5000);
  await reader.cancel();
  await platform.fs.syncDir(dir);
  assert.equal(await platform.fs.remove(platform.fs.join(dir, "new")), true);
  assert.equal(await platform.fs.remove(platform.fs.join(dir, "new")), false);
  assert.equal(await platform.fs.remove(base, { recursive: true }), true);
}

async function udp(): Promise<void> {
  step("udp: unicast both ways, then IPv4 multicast on loopback to two receivers sharing a port");
  const api = platform.udp!;
  const a = await api.bind({ hostname: "127.0.0.1", port: 0 });
  const b = await api.bind({ hostname: "127.0.0.1", port: 0 });
  await a.send(new Uint8Array([1, 2, 3]), b.addr);
  const got = await b.receive();
  assert.deepEqual(got.data, new Uint8Array([1, 2, 3]));
  assert.deepEqual(got.from, a.addr);
  await b.send(new Uint8Array([4]), got.from);
  assert.deepEqual((await a.receive()).data, new Uint8Array([4]));
  // NAT pre-opening: one TTL-limited datagram from a chosen port, then the port is free again.
  const opened = await api.preopen({ hostname: "127.0.0.1", port: 0, to: [b.addr], ttl: 2 });
  assert.equal((await b.receive()).from.port, opened);
  const again = await api.bind({ hostname: "127.0.0.1", port: opened });
  again.close();

  const group = "239.255.77.77";
  const r1 = await api.bind({ hostname: "0.0.0.0", port: 0, reuseAddress: true });
  const r2 = await api.bind({ hostname: "0.0.0.0", port: r1.addr.port, reuseAddress: true });
  for (const r of [r1, r2]) {
    await r.joinMulticastV4(group, "127.0.0.1");
    await r.joinMulticastV4(group, "127.0.0.1"); // twice is fine
  }
  const sender = await api.bind({ hostname: "127.0.0.1", port: 0, loopback: true });
  await sender.send(new TextEncoder().encode("announce"), { hostname: group, port: r1.addr.port });
  for (const r of [r1, r2]) assert.equal(new TextDecoder().decode((await r.receive()).data), "announce");

  const pending = a.receive();
  a.close();
  a.close(); // idempotent
  await assert.rejects(pending, /closed/);
  await assert.rejects(a.send(new Uint8Array([1]), b.addr), /closed/);
  for (const s of [b, r1, r2, sender]) s.close();
}

function processApi(): void {
  step("process: args, env, interfaces, runtime and target");
  assert.deepEqual(platform.process.args, ["one", "--two"]);
  assert.equal(platform.process.env("MACULA_CHECK_ENV"), "yes");
  assert.equal(platform.process.env("MACULA_CHECK_UNSET"), undefined);
  assert.ok(platform.process.interfaces().some((i) => i.address === "127.0.0.1" && i.internal && i.family === "IPv4"));
  assert.match(platform.runtimeVersion, /^node \d+\.\d+\.\d+$/);
  assert.match(platform.target, /^linux-(x86_64|aarch64|armv7)$/);
  assert.equal(platform.quic, undefined);
  assert.equal(platform.permissionDenied(new Error("EACCES")), null);
}

async function contentStore(): Promise<void> {
  step("content store on the Node fs: put, read, writer resume across a reopen, complete");
  const dir = platform.fs.join("/tmp", `macula-node-store-${crypto.randomUUID()}`);
  const data = new Uint8Array(100_000).map((_, i) => (i * 131) >> 2);
  const store = new FsContentStore(platform.fs, dir);
  await store.open();
  const entry = await store.put(new Blob([data]).stream(), { pin: true });
  const reader = (await store.reader(entry.mcid))!;
  assert.deepEqual(await reader.read(0, data.length), data);
  const leaves = reader.leaves!;
  await reader.close();
  await store.remove(entry.mcid);
  const w = await store.writer(entry.mcid);
  await w.setLeaves(leaves);
  await w.writeGroup(2, data.subarray(2 * 16384, 3 * 16384));
  await w.close();
  await store.close();
  const again = new FsContentStore(platform.fs, dir);
  await again.open();
  const w2 = await again.writer(entry.mcid);
  assert.deepEqual(w2.have().toArray(), [[2, 3]]);
  for (let g = 0; g < groupCount(data.length); g++) await w2.writeGroup(g, data.subarray(g * 16384, (g + 1) * 16384));
  assert.equal((await w2.complete()).complete, true);
  const r2 = (await again.reader(entry.mcid))!;
  assert.deepEqual(await r2.read(0, data.length), data);
  await r2.close();
  await again.close();
  await platform.fs.remove(dir, { recursive: true });
}

// CommonJS has no top-level await.
(async () => {
  processApi();
  await fs();
  await contentStore();
  await tcp();
  await udp();
  await http();
  await websocket();
  platform.process.stdout("all checks passed\n");
  platform.process.exit(0);
})().catch((error) => {
  platform.process.stderr(`${(error as Error).stack ?? error}\n`);
  platform.process.exit(1);
});
