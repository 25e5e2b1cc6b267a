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

Deno.test({
  name: "relay: a node reserves automatically at up to 2 connected relays of its realm, none of another realm",
  ...opts,
  async fn() {
    const { Node } = await import("../../src/api/node.ts");
    const { KeyPair } = await import("../../src/identity/ed25519.ts");
    const { Logger } = await import("../../src/log/logger.ts");
    const { hiddenTcp } = await import("./relay_helpers.ts");
    type Client = import("../../src/relay/relay-client.ts").RelayClient;
    const relays = await Promise.all([0, 1, 2].map(() => relayNode()));
    await using foreign = await relayNode({ realms: ["elsewhere"] }, { realms: "*" });
    try {
      await using n = await Node.start({
        keyPair: KeyPair.generate(),
        host: "127.0.0.1",
        port: 0,
        logger: Logger.silent(),
        transports: [hiddenTcp()],
        seeds: [...relays, foreign].map(tcpAddr),
      });
      const client = n.service<Client>("relay-client")!;
      await until(() => client.relays().filter((r) => r.state === "reserved").length === 2, 10_000, "2 reservations");
      await until(() => n.peers().length === 4, 10_000, "all four relays connected");
      await new Promise((r) => setTimeout(r, 300));
      assertEquals(client.relays().length, 2, "no third reservation, none at the foreign relay");
      assert(!client.relays().some((r) => r.relay === foreign.did));
      assertEquals(relayedAddrs(n).length, 2);
      const status = n.status()["relay-client"] as { relays: Array<{ state: string; expires?: string }> };
      assert(status.relays.every((r) => r.state === "reserved" && r.expires));
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
  },
});
