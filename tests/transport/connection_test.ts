import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { MemoryNetwork, MemoryTransport } from "../../src/transport/memory.ts";
import { LimitError, ProtocolRefusedError } from "../../src/transport/errors.ts";
import { echo, readAll, testContext } from "../helpers/transport_context.ts";
import { utf8 } from "../../src/util/bytes.ts";
import { Connection } from "../../src/transport/connection.ts";
import { deferred } from "../../src/util/async.ts";

async function pair(options: { maxInboundStreams?: number } = {}) {
  const network = new MemoryNetwork();
  const a = testContext();
  const b = testContext();
  const violations: Error[] = [];
  b.connectionOptions = { ...options, onProtocolViolation: (_c, e) => violations.push(e) };
  const ta = new MemoryTransport(network, "a");
  const tb = new MemoryTransport(network, "b");
  await ta.start(a);
  await tb.start(b);
  const conn = await ta.dial({ type: "direct", kind: "memory", host: "b", port: 0 }, b.localId);
  const inbound = await b.nextInbound();
  return { a, b, conn, inbound, violations };
}

Deno.test("negotiated streams carry data both ways with half-close", async () => {
  const { b, conn } = await pair();
  b.handlers.set("/echo/1", echo);
  const s = await conn.openStream("/echo/1");
  assertEquals(s.protocol, "/echo/1");
  await s.write(utf8("hello"));
  await s.write(utf8(" world"));
  await s.closeWrite();
  assertEquals(new TextDecoder().decode(await readAll(s)), "hello world");
  await s.closed;
  assertEquals(conn.activeStreams, 0);
});

Deno.test("unregistered protocols are refused with ProtocolRefusedError at the dialer", async () => {
  const { conn, b } = await pair();
  const e = await assertRejects(() => conn.openStream("/not/registered/1"), ProtocolRefusedError, "/not/registered/1");
  assertEquals((e as ProtocolRefusedError).peer, b.localId.did);
  // the connection stays usable
  b.handlers.set("/echo/1", echo);
  const s = await conn.openStream("/echo/1");
  await s.closeWrite();
  assertEquals(await readAll(s), new Uint8Array(0));
});

Deno.test("invalid protocol names are rejected locally", async () => {
  const { conn } = await pair();
  for (const bad of ["", "no-slash", "/", "/has space", "/" + "x".repeat(128), "/ünïcode"]) {
    await assertRejects(() => conn.openStream(bad), TypeError);
  }
});

Deno.test("inbound stream limit: extra streams get LimitError", async () => {
  const { conn, b } = await pair({ maxInboundStreams: 2 });
  const hold = deferred<void>();
  b.handlers.set("/hold/1", async (s) => {
    await hold.promise;
    await s.closeWrite();
  });
  const s1 = await conn.openStream("/hold/1");
  const s2 = await conn.openStream("/hold/1");
  await assertRejects(() => conn.openStream("/hold/1"), LimitError);
  hold.resolve();
  await s1.closeWrite();
  await s2.closeWrite();
  await Promise.all([readAll(s1), readAll(s2)]);
  await Promise.all([s1.closed, s2.closed]);
  const s3 = await conn.openStream("/hold/1");
  await s3.closeWrite();
});

Deno.test("a garbage negotiation header is a protocol violation: connection closed and counted", async () => {
  const network = new MemoryNetwork();
  const a = testContext();
  const b = testContext();
  const violations: Error[] = [];
  let inbound: Connection | undefined;
  network.listen("b", b.localId, (session) => {
    inbound = new Connection(session, b.gate, { onProtocolViolation: (_c, e) => violations.push(e) });
  });
  // The dialer keeps the raw session, so it can write bytes no Connection would.
  const raw = network.connect("b", a.localId, "a", b.localId);
  for (const garbage of [Uint8Array.of(5, 0xff, 0xfe, 0x00, 0x20, 0x01), Uint8Array.of(0)]) {
    const stream = await raw.openStream();
    await stream.write(garbage);
  }
  const info = await inbound!.closed;
  assert(info.reason.includes("protocol violation"), info.reason);
  assert(violations.length >= 1);
  assert((await raw.closed).reason.includes("protocol violation"));
});

Deno.test("fuzz: 2,000 mutated negotiation headers are accepted, refused or a counted violation", async () => {
  const { mutate } = await import("../helpers/mutate.ts");
  const network = new MemoryNetwork();
  const a = testContext();
  const b = testContext();
  b.handlers.set("/echo/1", echo);
  let violations = 0;
  const conns: Connection[] = [];
  network.listen("b", b.localId, (session) => {
    conns.push(new Connection(session, b.gate, { onProtocolViolation: () => violations++, negotiationTimeout: 50 }));
  });
  const valid = Uint8Array.of(7, ...utf8("/echo/1"));
  let outcomes = 0;
  for (let i = 0; i < 2000; i++) {
    const raw = network.connect("b", a.localId, "a", b.localId);
    const s = await raw.openStream();
    await s.write(mutate(valid, i));
    await s.closeWrite();
    // Either a status byte comes back, or the stream/connection ends.
    const first = await Promise.race([
      s.read().catch(() => null),
      raw.closed.then(() => null),
      new Promise<null>((r) => setTimeout(() => r(null), 200)),
    ]);
    if (first === null || first[0] === 0 || first[0] === 1) outcomes++;
    raw.close("case done");
  }
  assertEquals(outcomes, 2000);
  assert(violations > 100, `expected many violations, got ${violations}`);
});
