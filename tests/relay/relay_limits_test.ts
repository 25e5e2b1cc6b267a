/**
 * Operator limits and refusals, each a `RelayRefusedError` with its reason
 * at the asking node, the relay running on: reservation limit, circuit
 * limit, non-member reservation, no reservation, hop limit, relay disabled;
 * limits and counters in `/metrics`; a rate-limited circuit is throttled,
 * not cut.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { loopbackNode, until } from "../helpers/nodes.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { RelayRefusedError } from "../../src/relay/errors.ts";
import type { RelayClient } from "../../src/relay/relay-client.ts";
import { hopRequest, openCircuit } from "../../src/relay/relay-transport.ts";
import { DialError } from "../../src/transport/errors.ts";
import { privateNode, relayNode, reserved, tcpAddr } from "./relay_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function refusal(p: Promise<unknown>, reason: string): Promise<void> {
  const error = await assertRejects(() => p, RelayRefusedError);
  assertEquals((error as RelayRefusedError).reason, reason);
}

Deno.test({
  name: "relay limits: reservation limit, non-member, no reservation, hop limit, relay disabled",
  ...opts,
  async fn() {
    await using r = await relayNode({}, { limits: { maxReservations: 1 } });
    await using a = await privateNode([tcpAddr(r)]);
    await reserved(a, r);
    await using b = await privateNode([tcpAddr(r)]);
    const client = b.service<RelayClient>("relay-client")!;
    await until(() => client.relays()[0]?.state === "refused: reservation-limit", 10_000, "b refused");
    assertEquals(b.addrs.filter((x) => x.includes("/circuit/")), []);
    const toR = await b.connect(tcpAddr(r));
    await refusal(hopRequest(toR, { t: "reserve" }), "reservation-limit");

    await using stranger = await privateNode([], { realms: ["elsewhere"] });
    const sToR = await stranger.connect(tcpAddr(r));
    await refusal(hopRequest(sToR, { t: "reserve" }), "not-in-realm");

    const nobody = new NodeId(KeyPair.generate().publicKey);
    await refusal(openCircuit(toR, { t: "connect", target: nobody }), "no-reservation");
    await refusal(openCircuit(toR, { t: "connect", target: a.id, from: b.id, hops: 2 }), "hop-limit");
    await using plain = await loopbackNode({ transports: ["tcp"] });
    const toPlain = await b.connect(tcpAddr(plain));
    await refusal(hopRequest(toPlain, { t: "reserve" }), "relay-disabled");
    // Through the node: a typed error wrapped in DialError naming the reason.
    await assertRejects(
      () => b.connect(`${tcpAddr(r)}/circuit/${nobody.did}`),
      DialError,
      "no-reservation",
    );
    const metrics = r.metrics.registry.render();
    for (const reason of ["reservation-limit", "not-in-realm", "no-reservation", "hop-limit"]) {
      assert(metrics.includes(`macula_relay_refused_total{reason="${reason}"}`), `refusals of ${reason} counted`);
    }
    assert(metrics.includes('macula_relay_limit{limit="maxReservations"} 1'));
    assert(metrics.includes('macula_relay_limit{limit="maxCircuitsPerPeer"} 16'));
    assert(metrics.includes('macula_relay_limit{limit="maxCircuits"} 512'));
    assert(metrics.includes(`macula_relay_limit{limit="circuitRate"} ${1 << 20}`));
    assert(metrics.includes(`macula_relay_limit{limit="totalRate"} ${8 << 20}`));
    assert(metrics.includes("macula_relay_reservations 1"));
    // The relay keeps serving after all that.
    assertEquals(r.status().relay && (r.status().relay as { serving: boolean }).serving, true);
  },
});

Deno.test({
  name: "relay limits: circuits per peer and in total are refused cleanly",
  ...opts,
  async fn() {
    await using r = await relayNode({}, { limits: { maxCircuitsPerPeer: 1, maxCircuits: 2 } });
    const nodes = await Promise.all([0, 1, 2, 3].map(() => privateNode([tcpAddr(r)])));
    try {
      const [a, b, c, d] = nodes;
      for (const n of nodes) await reserved(n, r);
      const aToR = a.connection(r.id)!;
      const first = await openCircuit(aToR, { t: "connect", target: b.id });
      await refusal(openCircuit(aToR, { t: "connect", target: c.id }), "circuit-limit");
      const second = await openCircuit(b.connection(r.id)!, { t: "connect", target: c.id });
      await refusal(openCircuit(c.connection(r.id)!, { t: "connect", target: d.id }), "circuit-limit");
      first.reset();
      second.reset();
      await until(() => (r.status().relay as { circuits: number }).circuits === 0, 5_000, "circuits released");
      await openCircuit(c.connection(r.id)!, { t: "connect", target: d.id });
      assert(r.metrics.registry.render().includes('macula_relay_refused_total{reason="circuit-limit"} 2'));
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "relay limits: a rate-limited circuit is throttled, never cut",
  ...opts,
  async fn() {
    const rate = 128 * 1024;
    await using r = await relayNode({}, { limits: { circuitRate: rate } });
    await using a = await privateNode([tcpAddr(r)]);
    await using b = await privateNode([tcpAddr(r)]);
    const bAddr = await reserved(b, r);
    let received = 0;
    b.handle("/test/sink/1", async (s) => {
      for (let c = await s.read(); c !== null; c = await s.read()) received += c.length;
      await s.writeFrame(new TextEncoder().encode(String(received)));
      await s.closeWrite();
    });
    const conn = await a.connect(bAddr);
    assert(conn.relayed);
    const total = 512 * 1024;
    const started = performance.now();
    const s = await conn.openStream("/test/sink/1");
    const chunk = new Uint8Array(16 * 1024);
    for (let sent = 0; sent < total; sent += chunk.length) await s.write(chunk);
    await s.closeWrite();
    const answer = await s.readFrame();
    const seconds = (performance.now() - started) / 1000;
    assertEquals(new TextDecoder().decode(answer!), String(total));
    // A full bucket (1 s worth) goes at once; the rest at the rate: >= (512 - 128) / 128 = 3 s.
    assert(seconds >= 2.7, `took ${seconds.toFixed(2)} s, faster than the rate allows`);
    assert(seconds < 8, `took ${seconds.toFixed(2)} s`);
    assert(!conn.isClosed, "the circuit stays open");
    const bytes = Number(/macula_relay_bytes_total (\d+)/.exec(r.metrics.registry.render())?.[1]);
    assert(bytes >= total, `relay counted ${bytes} bytes`);
  },
});
