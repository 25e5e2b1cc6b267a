/**
 * Relayed connections between real nodes over loopback: two outbound-only
 * nodes reserved at one relay reach each other through it, and `request`,
 * `call` and pub/sub work over the circuit.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { privateNode, relayedAddrs, relayNode, reserved, tcpAddr } from "./relay_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "relay: two outbound-only nodes reach each other through a relay (request, call, pub/sub)",
  ...opts,
  async fn() {
    await using r = await relayNode();
    await using a = await privateNode([tcpAddr(r)]);
    await using b = await privateNode([tcpAddr(r)]);
    const bAddr = await reserved(b, r);
    await reserved(a, r);
    assertEquals(b.addrs.filter((x) => !x.includes("/circuit/")), [], "b announces no direct address");
    b.expose("echo", (_from, x) => ({ echoed: x }));
    const conn = await a.connect(bAddr);
    assert(conn.relayed, "the connection runs through the relay");
    assertEquals(conn.transport, "relay");
    assertEquals(await a.request(b.id, "echo", "hi"), { echoed: "hi" });
    const peer = a.peers().find((p) => p.id === b.did)!;
    assertEquals(peer.route, "relayed");
    assertEquals(peer.relay, r.did);

    // RPC through the DHT: b's provider record carries only its relayed address.
    b.advertise("math.add", (x: unknown) => (x as number[])[0] + (x as number[])[1]);
    await until(
      async () => {
        try {
          return (await a.call("math.add", [2, 3], { timeout: 2_000 })) === 5;
        } catch {
          return false;
        }
      },
      15_000,
      "relayed call",
    );

    // Pub/sub.
    const got: unknown[] = [];
    b.subscribe("relay.test", (m) => void got.push(m.payload));
    await until(
      async () => {
        await a.publish("relay.test", "ping");
        return got.length > 0;
      },
      15_000,
      "relayed publish",
    );
    assertEquals(got[0], "ping");
    assert(a.connection(b.id)?.relayed);
    assert(r.metrics.registry.render().includes("macula_relay_circuits 1"));
    assertEquals(relayedAddrs(a).length, 1);
  },
});
