/**
 * `QuicTransport.punchEndpoint` (src/transport/quic-punch.ts) over loopback: the UDP pre-open returns a
 * free port the QUIC endpoint then binds; two punch endpoints dial each
 * other at once (both connections reach both nodes, authenticated, marked
 * as punched); the endpoint closes itself once settled and empty; a taken
 * port is a `DialError`.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { echo, testContext } from "../helpers/transport_context.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { DialError } from "../../src/transport/errors.ts";

const platform = currentPlatform();

function transport() {
  return new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0, udp: platform.udp });
}

Deno.test("udp.preopen sends from a chosen port, closes, and the port is free for QUIC", async () => {
  const sink = await platform.udp!.bind({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = await platform.udp!.preopen({ hostname: "127.0.0.1", port: 0, to: [sink.addr], ttl: 2 });
    const got = await sink.receive();
    assertEquals(got.from.port, port);
    const endpoint = platform.quic!.createEndpoint({ hostname: "127.0.0.1", port });
    assertEquals(endpoint.addr.port, port);
    endpoint.close();
  } finally {
    sink.close();
  }
});

Deno.test("two punch endpoints dial each other at once; both connections are punched and reach the node", async () => {
  const ctxA = testContext();
  const ctxB = testContext();
  ctxA.handlers.set("/echo", echo);
  ctxB.handlers.set("/echo", echo);
  const a = transport();
  const b = transport();
  await a.start(ctxA);
  await b.start(ctxB);
  try {
    const epA = await a.punchEndpoint();
    const epB = await b.punchEndpoint({ preopen: [{ hostname: "127.0.0.1", port: epA.port }] });
    assert(epA.port !== epB.port);
    const [ab, ba] = await Promise.all([
      epA.dial({ hostname: "127.0.0.1", port: epB.port }, ctxB.localId, { timeout: 3_000 }),
      epB.dial({ hostname: "127.0.0.1", port: epA.port }, ctxA.localId, { timeout: 3_000 }),
    ]);
    assertEquals(ab.remoteId.hex, ctxB.localId.hex);
    assertEquals(ba.remoteId.hex, ctxA.localId.hex);
    assertEquals(ab.remoteAddress, `127.0.0.1:${epB.port}`);
    // Each node gets its outbound connection and the peer's inbound one (that one may lag the dial a little).
    for (let i = 0; i < 100 && (ctxA.inbound.length < 2 || ctxB.inbound.length < 2); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(ctxA.inbound.length, 2);
    assertEquals(ctxB.inbound.length, 2);
    assert(ctxA.inbound.every((c) => a.isPunched(c)));
    assertEquals(epA.connections, 2);
    const s = await ab.openStream("/echo");
    await s.write(new Uint8Array([7]));
    await s.closeWrite();
    assertEquals(await s.read(), new Uint8Array([7]));
    epA.settle();
    assert(!epA.closed, "an endpoint with live connections stays open");
    for (const c of ctxA.inbound) c.close();
    await Promise.all(ctxA.inbound.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 10));
    assert(epA.closed, "the settled endpoint closed with its last connection");
    epB.close();
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("a punch endpoint on a taken port is a DialError; a settled empty endpoint closes at once", async () => {
  const ctx = testContext();
  const a = transport();
  await a.start(ctx);
  try {
    const ep = await a.punchEndpoint();
    await assertRejects(() => a.punchEndpoint({ port: ep.port }), DialError, "cannot open a punch endpoint");
    ep.settle();
    assert(ep.closed);
  } finally {
    await a.close();
  }
});
