/**
 * The small relay modules on their own: the token bucket (src/util/token-bucket.ts),
 * the reservation and circuit tables (limits.ts), the byte pipe
 * (circuit.ts) and the peer keeper (keeper.ts).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { loopbackNode, until } from "../helpers/nodes.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { TokenBucket } from "../../src/util/token-bucket.ts";
import { CircuitTable, DEFAULT_RELAY_LIMITS, Reservations } from "../../src/relay/limits.ts";
import { PeerKeeper } from "../../src/relay/keeper.ts";
import { pipeCircuit } from "../../src/relay/circuit.ts";
import type { Connection, Stream } from "../../src/transport/connection.ts";
import { privateNode, relayNode, reserved, tcpAddr } from "./relay_helpers.ts";
import type { RelayClient } from "../../src/relay/relay-client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const id = () => new NodeId(KeyPair.generate().publicKey);

Deno.test("relay units: the defaults are the documented ones", () => {
  assertEquals({ ...DEFAULT_RELAY_LIMITS }, {
    maxReservations: 128,
    maxCircuitsPerPeer: 16,
    maxCircuits: 512,
    circuitRate: 1 << 20,
    totalRate: 8 << 20,
    reservationTtl: 900_000,
  });
});

Deno.test("relay units: a token bucket lets a second's worth through, then paces", async () => {
  const bucket = new TokenBucket(100_000);
  let t = performance.now();
  await bucket.take(100_000);
  assert(performance.now() - t < 20, "the first second's worth goes at once");
  t = performance.now();
  await bucket.take(30_000);
  const waited = performance.now() - t;
  assert(waited >= 250 && waited < 600, `waited ${waited} ms for 30 kB at 100 kB/s`);
  const free = new TokenBucket(0);
  t = performance.now();
  for (let i = 0; i < 100; i++) await free.take(1 << 30);
  assert(performance.now() - t < 20, "rate 0 is unlimited");
});

Deno.test("relay units: circuit table counts per peer and in total, release is idempotent", () => {
  const table = new CircuitTable(2, 3);
  const [a, b] = [id(), id()];
  const r1 = table.open(a) as () => void;
  const r2 = table.open(a) as () => void;
  assertEquals(table.open(a), "circuit-limit");
  const r3 = table.open(b) as () => void;
  assertEquals(table.open(b), "circuit-limit");
  assertEquals(table.size, 3);
  r1();
  r1();
  assertEquals(table.size, 2);
  assert(typeof table.open(b) === "function");
  r2();
  r3();
});

Deno.test({
  name: "relay units: reservations expire after their ttl and end with their connection",
  ...opts,
  async fn() {
    await using x = await loopbackNode({ transports: ["tcp"], relay: false });
    await using y = await loopbackNode({ transports: ["tcp"], relay: false });
    await using z = await loopbackNode({ transports: ["tcp"], relay: false });
    const xy = await x.connect(tcpAddr(y));
    const xz = await x.connect(tcpAddr(z));
    const table = new Reservations(1);
    assert(typeof table.reserve(xy, 100) === "object");
    assertEquals(table.reserve(xz, 100), "reservation-limit");
    assert(table.get(y.id));
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(table.get(y.id), undefined, "expired");
    assert(typeof table.reserve(xz, 60_000) === "object", "room again after expiry");
    xz.close();
    await until(() => table.size === 0, 2_000, "the reservation to end with its connection");
  },
});

Deno.test({
  name: "relay units: a refreshed reservation outlives its ttl",
  ...opts,
  async fn() {
    await using r = await relayNode({}, { limits: { reservationTtl: 1_500 } });
    await using b = await privateNode([tcpAddr(r)]);
    await reserved(b, r);
    const client = b.service<RelayClient>("relay-client")!;
    const first = client.relays()[0].expires;
    await new Promise((res) => setTimeout(res, 2_500));
    const now = client.relays()[0];
    assertEquals(now.state, "reserved");
    assert(now.expires !== first, "refreshed");
    assertEquals((r.status().relay as { reservations: unknown[] }).reservations.length, 1);
  },
});

Deno.test({
  name: "relay units: the pipe forwards both directions and half-closes",
  ...opts,
  async fn() {
    await using x = await loopbackNode({ transports: ["tcp"], relay: false });
    await using y = await loopbackNode({ transports: ["tcp"], relay: false });
    const inbound: Stream[] = [];
    y.handle("/test/pipe/1", (s) => void inbound.push(s));
    const conn: Connection = await x.connect(tcpAddr(y));
    const [a1, a2] = [await conn.openStream("/test/pipe/1"), await conn.openStream("/test/pipe/1")];
    await until(() => inbound.length === 2, 2_000, "both streams");
    let bytes = 0;
    const done = pipeCircuit(inbound[0], inbound[1], { onBytes: (n) => bytes += n });
    await a1.write(new TextEncoder().encode("left"));
    await a1.closeWrite();
    await a2.write(new TextEncoder().encode("right!"));
    await a2.closeWrite();
    const read = async (s: Stream) => {
      let text = "";
      for (let c = await s.read(); c !== null; c = await s.read()) text += new TextDecoder().decode(c);
      return text;
    };
    assertEquals(await read(a2), "left");
    assertEquals(await read(a1), "right!");
    await done;
    assertEquals(bytes, 10);
  },
});

Deno.test("relay units: the keeper retries with backoff until a dial succeeds", async () => {
  const peer = id();
  let attempts = 0;
  const connected: NodeId[] = [];
  const keeper = new PeerKeeper({
    dial: () => ++attempts < 3 ? Promise.reject(new Error("down")) : Promise.resolve({} as Connection),
    onConnected: (p) => void connected.push(p),
    backoffInitial: 10,
    backoffMax: 40,
  });
  keeper.keep(peer);
  await until(() => connected.length === 1, 2_000, "the keeper to connect");
  assertEquals(attempts, 3);
  keeper.stop();
});
