/**
 * Conformance tests every link (QUIC, TCP + Noise) must pass. Each test
 * runs across real sockets on loopback.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { echo, readAll, testContext } from "./transport_context.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { PeerIdMismatchError, ProtocolRefusedError } from "../../src/transport/errors.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { StreamResetError } from "../../src/transport/stream.ts";
import { utf8 } from "../../src/util/bytes.ts";

/** Builds a fresh, unstarted transport (listening on `port` where the link has ports). */
export type MakeTransport = (port?: number) => Transport;

async function listening(make: MakeTransport, ctx = testContext(), port = 0) {
  // A port just released may take a moment to become free again.
  for (let attempt = 0;; attempt++) {
    const t = make(port);
    try {
      await t.start(ctx);
      return { t, ctx, addr: t.listenAddresses[0] };
    } catch (error) {
      await t.close();
      if (!(error instanceof Deno.errors.AddrInUse) || attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Register the link conformance tests for `name`. */
export function linkSuite(name: string, make: MakeTransport): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name}: ${title}`, fn, sanitizeOps: false, sanitizeResources: false });

  test("dial proves both ids; streams echo", async () => {
    const server = await listening(make);
    const client = await listening(make);
    server.ctx.handlers.set("/echo/1", echo);
    try {
      const conn = await client.t.dial(server.addr, server.ctx.localId);
      assertEquals(conn.transport, server.t.kind);
      assertEquals(conn.route, "direct");
      assert(conn.remoteId.equals(server.ctx.localId));
      const inbound = await server.ctx.nextInbound();
      assert(inbound.remoteId.equals(client.ctx.localId), "server learned the client's proven id");
      assertEquals(inbound.direction, "inbound");
      const s = await conn.openStream("/echo/1");
      await s.write(utf8("ping"));
      await s.closeWrite();
      assertEquals(new TextDecoder().decode(await readAll(s)), "ping");
    } finally {
      await client.t.close();
      await server.t.close();
    }
  });

  test("dialing with the wrong expected id fails with PeerIdMismatchError", async () => {
    const server = await listening(make);
    const client = await listening(make);
    try {
      const someoneElse = testContext().localId;
      await assertRejects(() => client.t.dial(server.addr, someoneElse), PeerIdMismatchError, someoneElse.did);
      assertEquals(server.ctx.inbound.length, 0, "no connection was handed to the server's node");
    } finally {
      await client.t.close();
      await server.t.close();
    }
  });

  test("an impersonator (other key) at the address we were given is rejected", async () => {
    // The address string names the real node's id but the socket belongs to
    // an impostor holding another key: exactly what a hijacked address or a
    // stale address reused by someone else looks like to the dialer.
    const real = testContext();
    const impostor = await listening(make, testContext(KeyPair.generate()));
    const client = await listening(make);
    try {
      await assertRejects(
        () => client.t.dial({ ...impostor.addr, id: real.localId }, real.localId),
        PeerIdMismatchError,
      );
      assertEquals(impostor.ctx.inbound.length, 0);
    } finally {
      await client.t.close();
      await impostor.t.close();
    }
  });

  test("unregistered protocol is refused with a typed error", async () => {
    const server = await listening(make);
    const client = await listening(make);
    try {
      const conn = await client.t.dial(server.addr, server.ctx.localId);
      await assertRejects(() => conn.openStream("/secret/1"), ProtocolRefusedError);
    } finally {
      await client.t.close();
      await server.t.close();
    }
  });

  test("1,000 concurrent streams", async () => {
    const server = await listening(make);
    const client = await listening(make);
    server.ctx.handlers.set("/echo/1", echo);
    try {
      const conn = await client.t.dial(server.addr, server.ctx.localId);
      const results = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const s = await conn.openStream("/echo/1");
          const payload = new Uint8Array(1024).fill(i & 0xff);
          payload[0] = i >> 8;
          await s.write(payload);
          await s.closeWrite();
          const back = await readAll(s);
          return back.length === 1024 && back[0] === i >> 8 && back[1023] === (i & 0xff);
        }),
      );
      assertEquals(results.filter(Boolean).length, 1000);
    } finally {
      await client.t.close();
      await server.t.close();
    }
  });

  test("256 MiB on one stream arrives intact (SHA-256 compared)", async () => {
    const server = await listening(make);
    const client = await listening(make);
    server.ctx.handlers.set("/sink/1", async (s) => {
      const h = createHash("sha256");
      let n = 0;
      for (let c = await s.read(); c !== null; c = await s.read()) {
        h.update(c);
        n += c.length;
      }
      await s.write(utf8(`${n} ${h.digest("hex")}`));
      await s.closeWrite();
    });
    try {
      const conn = await client.t.dial(server.addr, server.ctx.localId);
      const s = await conn.openStream("/sink/1");
      const total = 256 * 1024 * 1024;
      const chunk = 64 * 1024;
      const h = createHash("sha256");
      const start = performance.now();
      for (let off = 0, i = 0; off < total; off += chunk, i++) {
        const buf = new Uint8Array(chunk);
        new DataView(buf.buffer).setUint32(0, i);
        buf[chunk - 1] = i & 0xff;
        h.update(buf);
        await s.write(buf);
      }
      await s.closeWrite();
      const reply = new TextDecoder().decode(await readAll(s));
      const seconds = (performance.now() - start) / 1000;
      assertEquals(reply, `${total} ${h.digest("hex")}`);
      console.log(
        `    ${name}: 256 MiB in ${seconds.toFixed(2)} s (${(256 / seconds).toFixed(0)} MiB/s incl. hashing)`,
      );
    } finally {
      await client.t.close();
      await server.t.close();
    }
  });

  test("half-close: each side keeps sending after the other's FIN", async () => {
    const server = await listening(make);
    const client = await listening(make);
    server.ctx.handlers.set("/half/1", async (s) => {
      const got = await readAll(s); // until the client's FIN
      await s.write(utf8(`after-fin:${got.length}`));
      await s.write(utf8(":more"));
      await s.closeWrite();
    });
    try {
      const conn = await client.t.dial(server.addr, server.ctx.localId);
      const s = await conn.openStream("/half/1");
      await s.write(new Uint8Array(5000));
      await s.closeWrite();
      assertEquals(new TextDecoder().decode(await readAll(s)), "after-fin:5000:more");
      await s.closed;
    } finally {
      await client.t.close();
      await server.t.close();
    }
  });

  test("closing a connection resolves `closed` on both sides and resets streams", async () => {
    const server = await listening(make);
    const client = await listening(make);
    server.ctx.handlers.set("/hang/1", () => new Promise(() => {}));
    try {
      const conn = await client.t.dial(server.addr, server.ctx.localId);
      const inbound = await server.ctx.nextInbound();
      const s = await conn.openStream("/hang/1");
      const pendingRead = s.read();
      conn.close("test over");
      const info = await conn.closed;
      assert(info.local);
      await assertRejects(() => pendingRead, StreamResetError);
      const remote = await inbound.closed;
      assert(!remote.local);
    } finally {
      await client.t.close();
      await server.t.close();
    }
  });
}
