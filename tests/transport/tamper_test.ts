/**
 * Tampering on the wire: a man in the middle that flips bits in encrypted
 * traffic must never get altered data delivered, and the connection ends.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { readAll, testContext } from "../helpers/transport_context.ts";
import type { DirectAddress } from "../../src/transport/address.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { WireError } from "../../src/wire/errors.ts";
import { deferred } from "../../src/util/async.ts";

const platform = currentPlatform();

/** TCP proxy that flips one bit in the client→server stream once armed. */
function tcpTamperProxy(targetPort: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state = { armed: false, tampered: 0 };
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      conns.push(client, server);
      const pump = async (from: Deno.Conn, to: Deno.Conn, tamper: boolean) => {
        const buf = new Uint8Array(65536);
        try {
          while (true) {
            const n = await from.read(buf);
            if (n === null) break;
            const chunk = buf.slice(0, n);
            if (tamper && state.armed && state.tampered === 0 && n > 20) {
              chunk[n - 10] ^= 0x01; // inside the ciphertext/tag of the current message
              state.tampered++;
            }
            await to.write(chunk);
          }
        } catch {
          // either side closed
        }
        try {
          to.close();
        } catch {
          // closed already
        }
      };
      pump(client, server, true);
      pump(server, client, false);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    state,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
    },
  };
}

Deno.test({
  name: "tcp: tampered ciphertext closes the connection and nothing altered is delivered",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = testContext();
    const client = testContext();
    const received: Uint8Array[] = [];
    const gotFirst = deferred<void>();
    server.handlers.set("/collect/1", async (s) => {
      for (let c = await s.read(); c !== null; c = await s.read()) {
        received.push(c);
        gotFirst.resolve();
      }
    });
    const ts = new TcpTransport(platform.tcp, { host: "127.0.0.1", port: 0 });
    const tc = new TcpTransport(platform.tcp, { host: "127.0.0.1", port: 0 });
    await ts.start(server);
    await tc.start(client);
    const proxy = tcpTamperProxy((ts.listenAddresses[0] as DirectAddress).port);
    try {
      const conn = await tc.dial({ type: "direct", kind: "tcp", host: "127.0.0.1", port: proxy.port }, server.localId);
      const inbound = await server.nextInbound();
      const s = await conn.openStream("/collect/1");
      const good = new Uint8Array(1000).fill(7);
      await s.write(good);
      await gotFirst.promise;
      proxy.state.armed = true;
      await s.write(new Uint8Array(1000).fill(9)).catch(() => {});
      const info = await inbound.closed;
      assertEquals(proxy.state.tampered, 1);
      assert(info.error instanceof WireError, `expected a WireError, got ${info.error}`);
      assertEquals((info.error as WireError).messageType, "noise transport");
      await conn.closed;
      // Only the untampered bytes were delivered.
      const total = received.reduce((n, c) => n + c.length, 0);
      assertEquals(total, 1000);
      assert(received.every((c) => c.every((b) => b === 7)));
    } finally {
      proxy.close();
      await tc.close();
      await ts.close();
    }
  },
});

/** UDP proxy that corrupts every client→server datagram once armed. */
function udpTamperProxy(targetPort: number) {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const target: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: targetPort };
  const state = { armed: false, tampered: 0 };
  let client: Deno.NetAddr | null = null;
  (async () => {
    for await (const [data, from] of sock) {
      const addr = from as Deno.NetAddr;
      if (addr.port === targetPort) {
        if (client) await sock.send(data, client);
        continue;
      }
      client = addr;
      if (state.armed) {
        data[data.length - 1] ^= 0x04; // the AEAD tag of the (last) packet
        state.tampered++;
      }
      await sock.send(data, target);
    }
  })().catch(() => {});
  return { port: (sock.addr as Deno.NetAddr).port, state, close: () => sock.close() };
}

Deno.test({
  name: "quic: tampered packets are never delivered; the connection closes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = testContext();
    const client = testContext();
    const received: Uint8Array[] = [];
    const gotFirst = deferred<void>();
    server.handlers.set("/collect/1", async (s) => {
      for (let c = await s.read(); c !== null; c = await s.read()) {
        received.push(c);
        gotFirst.resolve();
      }
    });
    const opts = { host: "127.0.0.1", port: 0, idleTimeout: 1500, keepAlive: 500 };
    const ts = new QuicTransport(platform.quic!, opts);
    const tc = new QuicTransport(platform.quic!, opts);
    await ts.start(server);
    await tc.start(client);
    const proxy = udpTamperProxy((ts.listenAddresses[0] as DirectAddress).port);
    try {
      const conn = await tc.dial({ type: "direct", kind: "quic", host: "127.0.0.1", port: proxy.port }, server.localId);
      const s = await conn.openStream("/collect/1");
      await s.write(new Uint8Array(1000).fill(7));
      await gotFirst.promise;
      proxy.state.armed = true;
      s.write(new Uint8Array(4000).fill(9)).catch(() => {});
      const info = await conn.closed;
      assert(proxy.state.tampered > 0);
      assert(!info.local, `expected the connection to die, got ${info.reason}`);
      const all = await readAll({ read: () => Promise.resolve(received.shift() ?? null) });
      assertEquals(all.length, 1000, "no tampered byte was delivered");
      assert(all.every((b) => b === 7));
    } finally {
      proxy.close();
      await tc.close();
      await ts.close();
    }
  },
});
