import { linkSuite } from "../helpers/link_suite.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { testContext } from "../helpers/transport_context.ts";
import { until } from "../helpers/nodes.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { currentPlatform } from "../../src/platform/current.ts";

linkSuite("quic", (port = 0) => new QuicTransport(currentPlatform().quic!, { host: "127.0.0.1", port }));

/** A listening QUIC transport (`ts`, context `server`) and a dialing one (`tc`, context `client`) on loopback. */
async function quicPair() {
  const platform = currentPlatform();
  const server = testContext();
  const client = testContext();
  const ts = new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0 });
  const tc = new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0 });
  await ts.start(server);
  await tc.start(client);
  return { server, client, ts, tc };
}

Deno.test({
  name: "quic: a dial that resolved was accepted by the listener, even if closed at once (20 times)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { server, client, ts, tc } = await quicPair();
    try {
      for (let i = 0; i < 20; i++) {
        const conn = await tc.dial(ts.listenAddresses[0], server.localId);
        conn.close("done at once");
        // Either the listener accepts the connection, or its handshake fails (then stop waiting).
        const inbound = await Promise.race([
          server.nextInbound(),
          until(() => server.handshakeErrors.length > 0, 5_000, "accepted or failed").then(() => null, () => null),
        ]);
        assertEquals(server.handshakeErrors.map((e) => e.message), [], `round ${i}: no handshake failed`);
        assert(inbound?.remoteId.equals(client.localId), `round ${i}: the listener accepted our id`);
        await inbound!.closed;
      }
    } finally {
      await tc.close();
      await ts.close();
    }
  },
});

Deno.test({
  name: "quic: a fresh dial comes from a new local port, not the listening one",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { server, ts, tc } = await quicPair();
    try {
      const listening = tc.listenAddresses[0];
      const port = (conn: { remoteAddress: string }) => Number(conn.remoteAddress.split(":").pop());
      const usual = await tc.dial(ts.listenAddresses[0], server.localId);
      assertEquals(port(await server.nextInbound()), listening.type === "direct" ? listening.port : -1);
      const fresh = await tc.dial(ts.listenAddresses[0], server.localId, { fresh: true });
      const inbound = await server.nextInbound();
      const freshPort = port(inbound);
      assert(listening.type === "direct" && freshPort !== listening.port, `fresh dial from ${freshPort}`);
      fresh.close("done");
      await inbound.closed;
      // (Deno frees the fresh endpoint's socket once its objects are garbage-collected, not at close.)
      assert(!usual.isClosed, "the usual connection is untouched");
    } finally {
      await tc.close();
      await ts.close();
    }
  },
});
