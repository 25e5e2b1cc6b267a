/**
 * The gateway: a "browser-like" node with ONLY the WebSocket link (and the
 * dial-through-its-gateway fallback) connected to gateway G; H connected to
 * G only (TCP); K connected to H only. The ws-only node receives pub/sub
 * from K, calls RPC on K, is dialed by K through G, and G sees it go.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { RelayRefusedError } from "../../src/relay/errors.ts";
import { hopRequest, openCircuit } from "../../src/relay/relay-transport.ts";
import { until } from "../helpers/nodes.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node } from "../../src/api/node.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { WebSocketTransport } from "../../src/transport/websocket.ts";
import { tcpAddr } from "./relay_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function tcpNode(seeds: string[], extra: Parameters<typeof Node.start>[0] = {}): Promise<Node> {
  return Node.start({
    keyPair: KeyPair.generate(),
    host: "127.0.0.1",
    port: 0,
    logger: Logger.silent(),
    transports: ["tcp"],
    seeds,
    ...extra,
  });
}

Deno.test({
  name:
    "gateway: a ws-only node reaches a node two hops away (pub/sub, RPC), is dialed back through G, leaves promptly",
  ...opts,
  async fn() {
    const http = currentPlatform().http;
    const gws = new WebSocketTransport({ listen: { http, host: "127.0.0.1", port: 0 } });
    await using g = await tcpNode([], { transports: ["tcp", gws], relay: { serveGateway: true } });
    const gAddr = g.addrs.find((a) => a.startsWith("ws://"));
    assert(gAddr, `G announces a ws address: ${g.addrs.join(" ")}`);
    assert(!g.record().roles.includes("relay"), "a gateway does not announce the relay role");
    await using h = await tcpNode([tcpAddr(g)]);
    await using k = await tcpNode([tcpAddr(h)]);
    await until(() => !!k.connection(h.id) && !!h.connection(g.id), 10_000, "K - H - G");

    const bws = new WebSocketTransport();
    await using b = await Node.start({
      keyPair: KeyPair.generate(),
      logger: Logger.silent(),
      transports: [bws],
      seeds: [gAddr], // only ws links: the first ws seed is the gateway (relay.gateway by default)
      nat: false,
      punch: false,
    });
    await until(
      () => b.addrs.some((a) => a.startsWith("tcp://") && a.includes("/circuit/")),
      10_000,
      "B reserved at G",
    );
    assert(b.connection(g.id)?.transport === "ws", "B reaches G over ws");
    assertEquals(b.addrs.filter((a) => !a.includes("/circuit/")), [], "B announces only relayed addresses");

    // (a) Pub/sub published on K reaches B: K finds B's subscription and dials B's relayed address through G.
    const got: unknown[] = [];
    b.subscribe("gw.test", (m) => void got.push(m.payload));
    await until(
      async () => {
        await k.publish("gw.test", "from K");
        return got.length > 0;
      },
      20_000,
      "B receives K's publish",
    );
    assertEquals(got[0], "from K");
    assert(k.connection(b.id)?.relayed, "K's connection to B runs through G");

    // (b) RPC advertised on K, called from B (over whichever of them dialed first: both run through G).
    k.advertise("k.add", (x: unknown) => (x as number[])[0] + (x as number[])[1]);
    await until(
      async () => {
        try {
          return (await b.call("k.add", [2, 3], { timeout: 2_000 })) === 5;
        } catch {
          return false;
        }
      },
      20_000,
      "B calls k.add",
    );
    const toK = b.connection(k.id);
    assert(toK?.relayed, "B's connection to K runs through G");

    // B dials a TCP address (of a node new to it, connected to G) as a circuit through G: the gateway transport.
    await using k4 = await tcpNode([tcpAddr(g)], { realms: ["elsewhere"] });
    await until(() => !!g.connection(k4.id), 5_000, "K4 - G");
    const toK4 = await b.connect(tcpAddr(k4));
    assert(toK4.relayed, "through G");
    assertEquals(toK4.direction, "outbound", "B dialed it");
    assertEquals(toK4.remoteId.did, k4.did);
    assert(await b.ping(k4.id) >= 0, "B pings K4 through G");

    // (c) A node in K's position (connected to H only), new to B, dials B's relayed address through G.
    await using k2 = await tcpNode([tcpAddr(h)]);
    const relayed = b.addrs.find((a) => a.startsWith("tcp://") && a.includes(`${g.did}/circuit/`))!;
    const back = await k2.connect(relayed);
    assert(back.relayed, "K2 reaches B through G");
    assertEquals(back.direction, "outbound", "K2 dialed B");
    assertEquals(back.remoteId.did, b.did);
    assert(await k2.ping(b.id) >= 0, "K2 pings B through G");

    // (d) B leaves: G, its gateway, reports it down (membership) promptly.
    let downAt = 0;
    g.on("peer:down", (id) => {
      if (id.equals(b.id)) downAt = Date.now();
    });
    const stoppedAt = Date.now();
    await b.stop();
    await until(() => downAt > 0, 3_000, "G reports B down");
    console.log(`G saw B leave ${downAt - stoppedAt} ms after it stopped`);
  },
});

Deno.test({
  name: "gateway: serves only its ws peers — a TCP peer may not reserve or open circuits (relay-disabled)",
  ...opts,
  async fn() {
    const http = currentPlatform().http;
    const gws = new WebSocketTransport({ listen: { http, host: "127.0.0.1", port: 0 } });
    await using g = await tcpNode([], { transports: ["tcp", gws], relay: { serveGateway: true } });
    await using h = await tcpNode([tcpAddr(g)]);
    await using k = await tcpNode([tcpAddr(g)]);
    const toG = await h.connect(tcpAddr(g));
    await assertRejects(
      () => hopRequest(toG, { t: "reserve" }),
      RelayRefusedError,
      "relay-disabled",
    );
    await assertRejects(
      () => openCircuit(toG, { t: "connect", target: k.id }),
      RelayRefusedError,
      "relay-disabled",
    );
    assertEquals((g.status().relay as { serving: unknown }).serving, "gateway");
  },
});

Deno.test({
  name: "gateway: ws-only nodes on two different gateways reach each other (G1 forwards to G2, where B2 is reserved)",
  ...opts,
  async fn() {
    const http = currentPlatform().http;
    const ws1 = new WebSocketTransport({ listen: { http, host: "127.0.0.1", port: 0 } });
    const ws2 = new WebSocketTransport({ listen: { http, host: "127.0.0.1", port: 0 } });
    await using g1 = await tcpNode([], { transports: ["tcp", ws1], relay: { serveGateway: true } });
    await using g2 = await tcpNode([tcpAddr(g1)], { transports: ["tcp", ws2], relay: { serveGateway: true } });
    const browser = (gateway: Node) =>
      Node.start({
        keyPair: KeyPair.generate(),
        logger: Logger.silent(),
        transports: [new WebSocketTransport()],
        seeds: [gateway.addrs.find((a) => a.startsWith("ws://"))!],
        nat: false,
        punch: false,
      });
    await using b1 = await browser(g1);
    await using b2 = await browser(g2);
    await until(() => b1.addrs.some((a) => a.includes("/circuit/")), 10_000, "B1 reserved");
    await until(() => b2.addrs.some((a) => a.includes("/circuit/")), 10_000, "B2 reserved");
    b2.expose("hello", (from) => `hello ${from.did}`);
    const conn = await b1.connect(b2.addrs.find((a) => a.startsWith("tcp://") && a.includes("/circuit/"))!);
    assert(conn.relayed, "B1 reaches B2 through G1 and G2");
    assertEquals(await b1.request(b2.id, "hello", null), `hello ${b1.did}`);
  },
});
