/**
 * A flood of half-open inbound handshakes from one source does not lock a
 * legitimate peer out. The attacker connects from 127.0.0.2 (a second
 * loopback address), the legitimate peer from 127.0.0.1, both to real
 * listeners with their default caps (128 pending, 8 per source).
 */
import net from "node:net";
import { assert, assertEquals } from "../helpers/assert.ts";
import { testContext } from "../helpers/transport_context.ts";
import { until } from "../helpers/nodes.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { ALPN, QuicTransport } from "../../src/transport/quic.ts";
import { serverNameFor, trustAnchor } from "../../src/secure/certificate.ts";
import type { HandshakeRefusal } from "../../src/transport/handshake-gate.ts";
import type { Transport } from "../../src/transport/transport.ts";

const ATTACKER = "127.0.0.2";
const FLOOD = 200;

function refusals(ctx: ReturnType<typeof testContext>): Map<HandshakeRefusal, number> {
  const counts = new Map<HandshakeRefusal, number>();
  ctx.onHandshakeRefused = (reason, remote) => {
    if (reason !== "deadline") assert(remote.startsWith(ATTACKER), `only the attacker is refused, not ${remote}`);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  };
  return counts;
}

/** Give the listener time to take in the whole flood (the attacker's side is done when its connects resolve). */
const settle = () => new Promise((r) => setTimeout(r, 500));

/** Start a listener on 127.0.0.1 whose handshake refusals are counted by reason. */
async function listener<T extends TcpTransport | QuicTransport>(server: T) {
  const serverCtx = testContext();
  const refused = refusals(serverCtx);
  await server.start(serverCtx);
  const addr = server.listenAddresses[0];
  if (addr.type !== "direct") throw new Error("unexpected address");
  return { server, serverCtx, refused, addr };
}

async function legitimateDial(make: () => Transport, server: Transport, serverCtx: ReturnType<typeof testContext>) {
  const ctx = testContext();
  const t = make();
  await t.start(ctx);
  try {
    const conn = await t.dial(server.listenAddresses[0], serverCtx.localId, { timeout: 4_000 });
    assert(conn.remoteId.equals(serverCtx.localId));
    const inbound = await serverCtx.nextInbound();
    assert(inbound.remoteId.equals(ctx.localId), "the listener accepted the legitimate peer");
    conn.close("done");
  } finally {
    await t.close();
  }
}

Deno.test({
  name: "handshake flood (tcp): 200 half-open sockets from one source do not stop a peer from another",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const platform = currentPlatform();
    const { server, serverCtx, refused, addr } = await listener(
      new TcpTransport(platform.tcp, { host: "127.0.0.1", port: 0 }),
    );
    const sockets: net.Socket[] = [];
    try {
      // Half send nothing; half send the start of a Noise message (a length prefix and a few bytes).
      await Promise.all(Array.from({ length: FLOOD }, (_, i) =>
        new Promise<void>((resolve, reject) => {
          const s = net.connect({ host: "127.0.0.1", port: addr.port, localAddress: ATTACKER });
          sockets.push(s);
          s.on("error", () => {});
          s.once("connect", () => {
            if (i % 2) s.write(Uint8Array.of(0, 32, 1, 2, 3, 4));
            resolve();
          });
          s.once("error", reject);
        })));
      await settle();
      await legitimateDial(() => new TcpTransport(platform.tcp, { host: "127.0.0.1", port: 0 }), server, serverCtx);
      assert((refused.get("source-limit") ?? 0) >= FLOOD - 8, "all but 8 attacker handshakes refused");
      assertEquals(refused.get("global-limit"), undefined);
      // The 8 admitted half-open handshakes end at the 5 s budget.
      await until(() => (refused.get("deadline") ?? 0) >= 8, 10_000, "half-open handshakes cut off");
    } finally {
      for (const s of sockets) s.destroy();
      await server.close();
    }
  },
});

Deno.test({
  name: "handshake flood (quic): 150 clients from one source that never prove their id do not stop a peer",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const platform = currentPlatform();
    const { server, serverCtx, refused, addr } = await listener(
      new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0 }),
    );
    const endpoint = new Deno.QuicEndpoint({ hostname: ATTACKER, port: 0 });
    const conns: Deno.QuicConn[] = [];
    const n = 150;
    try {
      // TLS completes (the server is pinned as a real dialer would), then the client never answers the challenge.
      await Promise.all(Array.from({ length: n }, async () => {
        try {
          conns.push(
            await Deno.connectQuic({
              endpoint,
              hostname: "127.0.0.1",
              port: addr.port,
              alpnProtocols: [ALPN],
              serverName: serverNameFor(serverCtx.keyPair.publicKey),
              caCerts: [trustAnchor(serverCtx.keyPair.publicKey)],
            }),
          );
        } catch {
          // refused while connecting: fine
        }
      }));
      await settle();
      await legitimateDial(
        () => new QuicTransport(platform.quic!, { host: "127.0.0.1", port: 0 }),
        server,
        serverCtx,
      );
      assert((refused.get("source-limit") ?? 0) >= n - 8, "all but 8 attacker handshakes refused");
      assertEquals(refused.get("global-limit"), undefined);
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      endpoint.close();
      await server.close();
    }
  },
});
