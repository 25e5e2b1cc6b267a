/**
 * End-to-end security of circuits, against a malicious relay built from the
 * relay's own protocol modules: it answers reservations and circuit
 * requests like a relay, but inspects, tampers with, or misdirects the bytes
 * it forwards.
 * - it never sees a plaintext marker (the ends run Noise XX end to end);
 * - flipping one byte kills the circuit (the AEAD tag fails) and the
 *   tampered data reaches no handler;
 * - connecting the dialer to another node than the one asked for is refused
 *   (`PeerIdMismatchError`: the handshake is pinned to the target's id);
 * - naming another dialer to the target is refused by the target (it
 *   expects the announced id in the handshake);
 * - malformed control messages close only the sender's connection.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node } from "../../src/api/node.ts";
import type { NodeService, ServiceHost } from "../../src/node/service.ts";
import type { Connection, Stream } from "../../src/transport/connection.ts";
import {
  decodeHopRequest,
  decodeRelayAnswer,
  encodeRelayAnswer,
  encodeStopRequest,
  HOP_PROTOCOL,
  STOP_PROTOCOL,
} from "../../src/relay/messages.ts";
import { RelayTransport } from "../../src/relay/relay-transport.ts";
import { PeerIdMismatchError } from "../../src/secure/errors.ts";
import { parseAddress } from "../../src/transport/address.ts";
import { hiddenTcp, privateNode, reserved, tcpAddr } from "./relay_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

type Mode = "inspect" | "flip" | "swap" | "lie";

/** A relay that speaks the protocol but forwards with intent. */
class EvilRelay implements NodeService {
  readonly name = "evil-relay";
  reserved = new Map<string, Connection>();
  seen: number[] = [];
  /** Flip a bit of the next forwarded chunk once armed. */
  armed = false;
  flipped = 0;
  constructor(readonly mode: Mode) {}

  start(host: ServiceHost): void {
    host.handle(HOP_PROTOCOL, (s) => this.#hop(s));
  }
  stop(): void {}

  async #hop(s: Stream): Promise<void> {
    const req = (await s.readMessage(decodeHopRequest))!;
    if (req.t === "reserve") {
      this.reserved.set(s.remoteId.hex, s.connection);
      await s.writeFrame(encodeRelayAnswer({ ok: true, ttl: 60_000 }));
      await s.closeWrite();
      return;
    }
    let target = this.reserved.get(req.target.hex);
    if (this.mode === "swap") {
      target = [...this.reserved.values()].find((c) =>
        !c.remoteId.equals(req.target) && !c.remoteId.equals(s.remoteId)
      );
    }
    const stop = await target!.openStream(STOP_PROTOCOL);
    // "lie": tell the target that another node (one of the reserved ones) is dialing.
    const claimed = this.mode === "lie"
      ? [...this.reserved.values()].find((c) => !c.remoteId.equals(req.target) && !c.remoteId.equals(s.remoteId))!
        .remoteId
      : s.remoteId;
    await stop.writeFrame(encodeStopRequest({ from: claimed }));
    const answer = await stop.readMessage(decodeRelayAnswer);
    if (!answer?.ok) throw new Error("target refused");
    await s.writeFrame(encodeRelayAnswer({ ok: true }));
    await Promise.all([this.#pump(s, stop), this.#pump(stop, s)]).catch(() => {
      s.reset();
      stop.reset();
    });
  }

  async #pump(from: Stream, to: Stream): Promise<void> {
    for (;;) {
      const chunk = await from.read();
      if (chunk === null) return await to.closeWrite();
      for (const b of chunk) this.seen.push(b);
      if (this.mode === "flip" && this.armed && chunk.length > 0) {
        chunk[chunk.length >> 1] ^= 0x01;
        this.armed = false;
        this.flipped++;
      }
      await to.write(chunk);
    }
  }
}

async function evilSetup(mode: Mode) {
  const evil = new EvilRelay(mode);
  const r = await Node.start({
    keyPair: KeyPair.generate(),
    host: "127.0.0.1",
    port: 0,
    logger: Logger.silent(),
    transports: ["tcp"],
    roles: ["relay"],
    relay: false,
    services: [evil],
  });
  const aTransport = new RelayTransport();
  const a = await privateNode([tcpAddr(r)], { transports: [hiddenTcp(), aTransport] });
  const b = await privateNode([tcpAddr(r)]);
  const c = await privateNode([tcpAddr(r)]);
  await until(() => evil.reserved.size === 3, 10_000, "three reservations at the evil relay");
  return {
    evil,
    r,
    a,
    aTransport,
    b,
    c,
    async [Symbol.asyncDispose]() {
      await Promise.all([a, b, c, r].map((n) => n.stop()));
    },
  };
}

function includes(haystack: number[], needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test({
  name: "relay security: the relay never sees a plaintext marker",
  ...opts,
  async fn() {
    await using s = await evilSetup("inspect");
    const marker = "PLAINTEXT-MARKER-7f3a9c";
    const reply = "REPLY-MARKER-b81e44";
    let got: unknown;
    s.b.expose("echo", (_from, x) => {
      got = x;
      return reply;
    });
    const bAddr = await reserved(s.b, s.r);
    const conn = await s.a.connect(bAddr);
    assert(conn.relayed);
    assertEquals(await s.a.request(s.b.id, "echo", marker), reply);
    assertEquals(got, marker);
    assert(s.evil.seen.length > 500, `the relay forwarded ${s.evil.seen.length} bytes`);
    const enc = new TextEncoder();
    assert(!includes(s.evil.seen, enc.encode(marker)), "the relay saw the request marker");
    assert(!includes(s.evil.seen, enc.encode(reply)), "the relay saw the reply marker");
    assert(!includes(s.evil.seen, enc.encode("echo")), "the relay saw the protocol name");
  },
});

Deno.test({
  name: "relay security: a relay that flips a byte kills the circuit",
  ...opts,
  async fn() {
    await using s = await evilSetup("flip");
    const calls: unknown[] = [];
    s.b.expose("echo", (_from, x) => {
      calls.push(x);
      return x;
    });
    const conn = await s.a.connect(await reserved(s.b, s.r));
    assertEquals(await s.a.request(s.b.id, "echo", 1), 1);
    s.evil.armed = true;
    await assertRejects(() => s.a.request(s.b.id, "echo", 2, { timeout: 5_000 }));
    assertEquals(s.evil.flipped, 1);
    await until(() => conn.isClosed, 10_000, "the tampered circuit to close");
    assertEquals(calls, [1], "the tampered request reached no handler");
  },
});

Deno.test({
  name: "relay security: a relay that connects the dialer to another node is refused (PeerIdMismatchError)",
  ...opts,
  async fn() {
    await using s = await evilSetup("swap");
    const bText = await reserved(s.b, s.r);
    const bAddr = parseAddress(bText);
    // a's own relay transport, to see the typed error (the node's dial reports it too).
    await assertRejects(() => s.aTransport.dial(bAddr, s.b.id), PeerIdMismatchError);
    await assertRejects(() => s.a.connect(bText), PeerIdMismatchError);
    assertEquals(s.a.connection(s.b.id), undefined);
  },
});

Deno.test({
  name: "relay security: malformed hop requests close only the sender's connection; the relay keeps serving",
  ...opts,
  async fn() {
    const { relayNode } = await import("./relay_helpers.ts");
    const { encodeCbor } = await import("../../src/wire/cbor.ts");
    const { HOP_PROTOCOL } = await import("../../src/relay/messages.ts");
    await using r = await relayNode();
    await using b = await privateNode([tcpAddr(r)]);
    const bAddr = await reserved(b, r);
    const bad = [
      encodeCbor({ t: "connect" }), // no target
      encodeCbor({ t: "reserve", target: new Uint8Array(32) }),
      Uint8Array.of(0xff, 0xfe, 0xfd),
      new Uint8Array(4096), // over the 1 KiB message limit
    ];
    for (const frame of bad) {
      await using m = await privateNode([]);
      const conn = await m.connect(tcpAddr(r));
      const s = await conn.openStream(HOP_PROTOCOL);
      await s.writeFrame(frame, 8192).catch(() => {});
      await until(() => conn.isClosed, 5_000, "the relay to drop the misbehaving connection");
    }
    // Still serving: a fresh node reaches b through the relay.
    await using a = await privateNode([tcpAddr(r)]);
    b.expose("ok", () => "ok");
    await a.connect(bAddr);
    assertEquals(await a.request(b.id, "ok", null), "ok");
    const violations = Number(/^macula_protocol_violations_total (\d+)/m.exec(r.metrics.registry.render())?.[1]);
    assertEquals(violations, bad.length);
  },
});

Deno.test({
  name: "relay security: a relay that names another dialer to the target is refused by the target",
  ...opts,
  async fn() {
    await using s = await evilSetup("lie");
    const bText = await reserved(s.b, s.r);
    await assertRejects(() => s.a.connect(bText));
    assertEquals(s.a.connection(s.b.id), undefined);
    assertEquals(s.b.connection(s.a.id), undefined);
    assertEquals(s.b.connection(s.c.id), undefined, "b did not take a for c");
    await until(
      () => s.b.metrics.registry.render().includes('macula_handshake_failures_total{code="E_PEER_ID_MISMATCH"} 1'),
      5_000,
      "b to count the mismatch",
    );
  },
});
