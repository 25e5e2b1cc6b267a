import { NotAuthorizedError } from "../../src/node/authorize.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { loopbackNode, MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import { RemoteHandlerError } from "../../src/node/expose.ts";
import { DialError, ProtocolRefusedError } from "../../src/transport/errors.ts";
import { WireError } from "../../src/wire/errors.ts";
import { Connection } from "../../src/transport/connection.ts";
import { Node } from "../../src/api/node.ts";
import { Logger } from "../../src/log/logger.ts";
import type { NodeId } from "../../src/identity/node-id.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "two nodes connect by address; identify shares records; events fire",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network, { realms: ["io.example.app"] });
    await using b = await memoryNode(network);
    const connected: string[] = [];
    b.on("peer:connect", (c) => connected.push(c.remoteId.did));
    const conn = await a.connect(b.addrs[0]);
    assert(conn.remoteId.equals(b.id));
    await until(() => b.peers().length === 1 && a.peers()[0]?.addrs.length === 1, 2000, "identify");
    assertEquals(connected, [a.did]);
    assertEquals(a.peers()[0].id, b.did);
    assertEquals(a.peers()[0].transport, "memory");
    assertEquals(a.peers()[0].addrs, b.addrs);
    assertEquals(b.peers()[0].realms, ["io.example.app"]);
    await until(() => typeof a.peers()[0].rtt === "number", 2000, "rtt");
    // connecting again reuses the connection
    assert((await a.connect(b.did)) === conn);
  },
});

Deno.test({
  name: "expose/request: results, remote errors, default-deny and authorize",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    await using c = await memoryNode(network);
    const seen: string[] = [];
    a.expose("add", (from, args) => {
      seen.push(from.did);
      const { x, y } = args as { x: number; y: number };
      return { sum: x + y };
    });
    a.expose("fail", () => {
      throw new Error("sensor offline");
    });
    const onlyB = a.expose("admin", () => "ok", { authorize: (peer: NodeId) => peer.equals(b.id) });
    assertEquals(await b.request(a.addrs[0], "add", { x: 2, y: 3 }), { sum: 5 });
    assertEquals(seen, [b.did], "handler sees the caller's proven id");
    const err = await assertRejects(() => b.request(a.id, "fail", null), RemoteHandlerError, "sensor offline");
    assertEquals((err as RemoteHandlerError).remoteMessage, "sensor offline");
    await assertRejects(() => b.request(a.id, "missing", null), ProtocolRefusedError);
    assertEquals(await b.request(a.id, "admin", null), "ok");
    // A per-request refusal is a typed error, at once — never a timeout.
    const started = Date.now();
    await assertRejects(() => c.request(a.addrs[0], "admin", null), NotAuthorizedError, "admin");
    assert(Date.now() - started < 1_000, "refused at once");
    onlyB.close();
    await assertRejects(() => b.request(a.id, "admin", null), ProtocolRefusedError);
    assert(a.metrics.streamsRefused.get({ reason: "unknown" }) >= 2);
  },
});

Deno.test({
  name: "oversized request payload is a local WireError; the connection stays up",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    a.expose("echo", (_from, x) => x);
    await assertRejects(() => b.request(a.addrs[0], "echo", new Uint8Array(2 * 1024 * 1024)), WireError, "oversized");
    assertEquals(await b.request(a.id, "echo", "still fine"), "still fine");
  },
});

Deno.test({
  name: "a peer that sends garbage is disconnected and counted; the node keeps serving",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    a.expose("echo", (_from, x) => x);
    // An attacker speaks raw bytes on an authenticated session (below Connection).
    const attacker = await memoryNode(network);
    const raw = network.connect(a.addrs[0].split("/")[2], attacker.id, "attacker", a.id);
    const s = await raw.openStream();
    await s.write(Uint8Array.of(200, 1, 2, 3)); // invalid protocol header
    const info = await raw.closed;
    assert(info.reason.includes("protocol violation"), info.reason);
    assertEquals(a.metrics.protocolViolations.get(), 1);
    assert(a.metrics.registry.render().includes('macula_wire_errors_total{type="stream negotiation"} 1'));
    // App-level garbage: a valid stream carrying a malformed request.
    const conn = await attacker.connect(a.addrs[0]);
    const bad = await conn.openStream("/macula/app/1/echo");
    await bad.writeFrame(Uint8Array.of(0xff, 0x00));
    await conn.closed;
    assertEquals(a.metrics.protocolViolations.get(), 2);
    assertEquals(await b.request(a.addrs[0], "echo", 42), 42);
    await attacker.stop();
  },
});

Deno.test({
  name: "ping measures RTT; stop is idempotent and refuses new work",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const a = await memoryNode(network);
    await using b = await memoryNode(network);
    const rtt = await a.ping(b.addrs[0]);
    assert(rtt >= 0 && rtt < 1000);
    await a.stop();
    await a.stop();
    await assertRejects(() => a.connect(b.addrs[0]), DialError);
    await until(() => b.peers().length === 0, 2000, "b to see a leave");
  },
});

Deno.test({
  name: "identity persists in the data dir across restarts",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "macula-node-" });
    try {
      const first = await Node.start({ dataDir: dir, host: "127.0.0.1", port: 0, logger: Logger.silent() });
      const id = first.did;
      await first.stop();
      const second = await Node.start({ dataDir: dir, host: "127.0.0.1", port: 0, logger: Logger.silent() });
      assertEquals(second.did, id);
      await second.stop();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "over real sockets: QUIC and TCP addresses both work and report their transport",
  ...opts,
  async fn() {
    await using a = await loopbackNode();
    await using b = await loopbackNode({ transports: ["tcp"] });
    await using c = await loopbackNode({ transports: ["quic"] });
    a.expose("who", (from) => from.did);
    const quicAddr = a.addrs.find((x) => x.startsWith("quic://"))!;
    const tcpAddr = a.addrs.find((x) => x.startsWith("tcp://"))!;
    assertEquals(await c.request(quicAddr, "who", null), c.did);
    assertEquals(await b.request(tcpAddr, "who", null), b.did);
    assertEquals(c.connection(a.id)?.transport, "quic");
    assertEquals(b.connection(a.id)?.transport, "tcp");
    await until(() => a.peers().length === 2, 2000, "both peers");
    assertEquals(a.peers().map((p) => p.transport).sort(), ["quic", "tcp"]);
  },
});

Deno.test({
  name: "QUIC first, TCP fallback: a node without QUIC is reached over TCP from the full address list",
  ...opts,
  async fn() {
    await using a = await loopbackNode({ transports: ["tcp"] });
    await using b = await loopbackNode();
    // Give b a QUIC address for a that nothing answers on, plus a's TCP address.
    const tcp = a.addrs.find((x) => x.startsWith("tcp://"))!;
    const deadQuic = tcp.replace("tcp://", "quic://").replace(/:(\d+)\//, ":9/");
    const { parseAddress } = await import("../../src/transport/address.ts");
    b.peerStore.addAddresses(a.id, [parseAddress(tcp), parseAddress(deadQuic)]);
    const start = performance.now();
    const conn = await b.connect(a.id);
    assertEquals(conn.transport, "tcp");
    assert(performance.now() - start < 3000, "fallback must not wait for the full QUIC timeout");
    assert(conn instanceof Connection);
  },
});

Deno.test({
  name: "1,200 sequential requests on one QUIC connection: every request stream is finished (no stream leak)",
  ...opts,
  async fn() {
    await using a = await Node.start({
      host: "127.0.0.1",
      port: 0,
      transports: ["quic"],
      logger: Logger.silent(),
      keyPair: undefined,
      dataDir: await Deno.makeTempDir(),
    });
    await using b = await Node.start({
      host: "127.0.0.1",
      port: 0,
      transports: ["quic"],
      logger: Logger.silent(),
      dataDir: await Deno.makeTempDir(),
    });
    b.expose("echo", (_from, x) => x);
    const conn = await a.connect(b.addrs.find((x) => x.startsWith("quic://127.0.0.1"))!);
    for (let i = 0; i < 1200; i++) assertEquals(await a.request(b.id, "echo", i), i);
    assert(a.connection(b.id) === conn, "the same connection carried every request");
  },
});
