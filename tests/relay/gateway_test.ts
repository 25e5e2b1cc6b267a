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

    // (b) RPC advertised on K, called from B: B dials K through G.
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

    // (a) Pub/sub published on K reaches B.
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

    // (c) K dials B at its relayed address through G (a fresh connection).
    toK.close("test: make K dial");
    await until(() => !k.connection(b.id), 5_000, "K forgets B");
    const relayed = b.addrs.find((a) => a.startsWith("tcp://") && a.includes(`${g.did}/circuit/`))!;
    const back = await k.connect(relayed);
    assert(back.relayed, "K reaches B through G");
    assertEquals(back.remoteId.did, b.did);
    assert(await k.ping(b.id) >= 0, "K pings B through G");

    // (d) B leaves: G notices promptly.
    let downAt = 0;
    g.on("peer:disconnect", (id) => {
      if (id.equals(b.id)) downAt = Date.now();
    });
    const stoppedAt = Date.now();
    await b.stop();
    await until(() => downAt > 0, 3_000, "G sees B leave");
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
