import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { duplexPair } from "../helpers/duplex_pair.ts";
import { echo, readAll } from "../helpers/transport_context.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { secureConnection, secureSession } from "../../src/transport/secure-session.ts";
import { PeerIdMismatchError, ProtocolRefusedError } from "../../src/transport/errors.ts";
import { memoryStreamPair } from "../../src/transport/memory.ts";
import type { StreamHandler } from "../../src/transport/connection.ts";
import { utf8 } from "../../src/util/bytes.ts";

const gateOf = (handlers: Record<string, StreamHandler>) => (protocol: string) => handlers[protocol] ?? null;

Deno.test("secure session: both ends of a duplex pair become authenticated connections that carry streams", async () => {
  const alice = KeyPair.generate();
  const bob = KeyPair.generate();
  const [x, y] = duplexPair({ maxChunk: 1000 });
  const [a, b] = await Promise.all([
    secureConnection(x, {
      role: "initiator",
      keyPair: alice,
      expected: new NodeId(bob.publicKey),
      kind: "tcp",
      route: "relayed",
      remoteAddress: "via relay",
      gate: gateOf({ "/echo/1": echo }),
    }),
    secureConnection(y, {
      role: "responder",
      keyPair: bob,
      kind: "tcp",
      route: "relayed",
      remoteAddress: "via relay",
      gate: gateOf({ "/echo/1": echo }),
    }),
  ]);
  try {
    assert(a.remoteId.equals(new NodeId(bob.publicKey)));
    assert(b.remoteId.equals(new NodeId(alice.publicKey)), "the responder learned the proven initiator id");
    assertEquals([a.direction, b.direction], ["outbound", "inbound"]);
    assertEquals([a.route, b.route, a.relayed], ["relayed", "relayed", true]);
    assertEquals(a.transport, "tcp");
    // streams in both directions
    for (const [from, label] of [[a, "a→b"], [b, "b→a"]] as const) {
      const s = await from.openStream("/echo/1");
      const payload = new Uint8Array(200_000).map((_, i) => i & 0xff);
      await s.write(payload);
      await s.closeWrite();
      assertEquals(await readAll(s), payload, label);
    }
    await assertRejects(() => a.openStream("/nope/1"), ProtocolRefusedError);
    a.close("done");
    assertEquals((await b.closed).local, false);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("secure session: runs over a ByteStream too (a stream through a relay), marked direct by default", async () => {
  const alice = KeyPair.generate();
  const bob = KeyPair.generate();
  const [x, y] = memoryStreamPair();
  const [a, b] = await Promise.all([
    secureSession(x, { role: "initiator", keyPair: alice, kind: "memory", remoteAddress: "b" }),
    secureSession(y, { role: "responder", keyPair: bob, kind: "memory", remoteAddress: "a" }),
  ]);
  assertEquals([a.route, b.route], ["direct", "direct"]);
  assert(a.remoteId.equals(new NodeId(bob.publicKey)));
  b.onStream(async (s) => {
    await s.write(utf8("hi"));
    await s.closeWrite();
  });
  const s = await a.openStream();
  await s.closeWrite();
  assertEquals(new TextDecoder().decode(await readAll(s)), "hi");
  a.close();
  await b.closed;
});

Deno.test("secure session: a wrong expected id is rejected with PeerIdMismatchError on either side", async () => {
  const alice = KeyPair.generate();
  const bob = KeyPair.generate();
  const someoneElse = new NodeId(KeyPair.generate().publicKey);
  {
    // the initiator expects someone else: it stops before revealing itself
    const [x, y] = duplexPair();
    const dial = secureSession(x, {
      role: "initiator",
      keyPair: alice,
      expected: someoneElse,
      kind: "tcp",
      remoteAddress: "r",
    });
    const accept = secureSession(y, { role: "responder", keyPair: bob, kind: "tcp", remoteAddress: "r" });
    await assertRejects(() => dial, PeerIdMismatchError, someoneElse.did);
    await assertRejects(() => accept);
    assert(x.isClosed, "the initiator's pipe is closed");
  }
  {
    // the responder expects someone else (e.g. a relay forwarding a stream from a known peer)
    const [x, y] = duplexPair();
    const dial = secureSession(x, { role: "initiator", keyPair: alice, kind: "tcp", remoteAddress: "r" });
    const accept = secureSession(y, {
      role: "responder",
      keyPair: bob,
      expected: someoneElse,
      kind: "tcp",
      remoteAddress: "r",
    });
    await assertRejects(() => accept, PeerIdMismatchError, someoneElse.did);
    assert(y.isClosed, "the responder's pipe is closed");
    const session = await dial.catch(() => null);
    if (session) assertEquals((await session.closed).local, false, "the initiator's session ends");
  }
});
