import { linkSuite } from "../helpers/link_suite.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { testContext } from "../helpers/transport_context.ts";
import { until } from "../helpers/nodes.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { currentPlatform } from "../../src/platform/current.ts";

linkSuite("quic", (port = 0) => new QuicTransport(currentPlatform().quic!, { host: "127.0.0.1", port }));

Deno.test({
  name: "quic: a dial that resolved was accepted by the listener, even if closed at once (20 times)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const platform = currentPlatform();
    const server = testContext();
    const client = testContext();
    const ts = new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0 });
    const tc = new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0 });
    await ts.start(server);
    await tc.start(client);
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
