/**
 * The QUIC listener refuses clients that do not prove their id properly:
 * a bad proof, no proof, or streams opened before the proof. Each client
 * here is hand-made over Deno's QUIC (TLS pinned to the server as a real
 * dialer does), so it can misbehave; the control case shows that the same
 * client, behaving, is served.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { testContext } from "../helpers/transport_context.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { ALPN, QuicTransport } from "../../src/transport/quic.ts";
import { decodeChallenge } from "../../src/transport/quic-auth.ts";
import { QUIC_CLOSE } from "../../src/transport/quic-session.ts";
import { QuicByteStream } from "../../src/transport/quic-stream.ts";
import { serverNameFor, trustAnchor } from "../../src/secure/certificate.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { BufferedReader, writeFrame } from "../../src/wire/frame.ts";
import { concat, utf8 } from "../../src/util/bytes.ts";
import type { HandshakeRefusal } from "../../src/transport/handshake-gate.ts";

const PROTOCOL = "/probe/1";

type Behaviour = "good" | "bad-signature" | "wrong-id" | "no-proof" | "stream-first";

async function server(budget = 5_000) {
  const ctx = testContext();
  const served: string[] = [];
  const refused: HandshakeRefusal[] = [];
  ctx.onHandshakeRefused = (reason) => refused.push(reason);
  ctx.handlers.set(PROTOCOL, async (stream) => {
    served.push(stream.protocol);
    await stream.write(utf8("served"));
    await stream.closeWrite();
  });
  const t = new QuicTransport(currentPlatform().quic!, { host: "127.0.0.1", port: 0, inboundHandshakeBudget: budget });
  await t.start(ctx);
  const addr = t.listenAddresses[0];
  if (addr.type !== "direct") throw new Error("unexpected address");
  return { t, ctx, served, refused, port: addr.port };
}

/** Open a stream for `PROTOCOL` the way a `Connection` does (length-prefixed name), with some data. */
async function openProbe(conn: Deno.QuicConn): Promise<QuicByteStream> {
  const stream = new QuicByteStream(await conn.createBidirectionalStream());
  const name = utf8(PROTOCOL);
  await stream.write(concat(Uint8Array.of(name.length), name, utf8("hello")));
  return stream;
}

/** A hand-made client that behaves as told; returns its connection once the handshake played out. */
async function client(port: number, serverKey: Uint8Array, behaviour: Behaviour) {
  const keyPair = KeyPair.generate();
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connectQuic({
    endpoint,
    hostname: "127.0.0.1",
    port,
    alpnProtocols: [ALPN],
    serverName: serverNameFor(serverKey),
    caCerts: [trustAnchor(serverKey)],
  });
  const closed = conn.closed.then((info) => info, (error) => ({ closeCode: -1, reason: String(error) }));
  const early = behaviour === "stream-first" ? await openProbe(conn) : null;
  if (early) await new Promise((r) => setTimeout(r, 300)); // let the stream reach the server first
  const verdict = await prove(conn, keyPair, serverKey, behaviour).catch(() => null);
  return { conn, endpoint, closed, verdict, early, id: keyPair.publicKey };
}

/** Answer the server's challenge as `behaviour` says; the verdict byte, or null if there was none. */
async function prove(
  conn: Deno.QuicConn,
  keyPair: KeyPair,
  serverKey: Uint8Array,
  behaviour: Behaviour,
): Promise<Uint8Array | null> {
  const incoming = conn.incomingBidirectionalStreams.getReader();
  const first = await incoming.read();
  if (first.done) return null; // the server closed the connection before challenging us
  const auth = new QuicByteStream(first.value);
  const reader = new BufferedReader(auth);
  const challenge = decodeChallenge((await reader.readFrame(512, "challenge"))!);
  if (behaviour === "no-proof") return null;
  const transcript = (nonce: Uint8Array, id: Uint8Array) => concat(utf8("macula-quic-auth/1"), nonce, serverKey, id);
  let sig = keyPair.sign(transcript(challenge.nonce, keyPair.publicKey));
  let id = keyPair.publicKey;
  if (behaviour === "bad-signature") sig = keyPair.sign(transcript(new Uint8Array(32), keyPair.publicKey));
  if (behaviour === "wrong-id") id = KeyPair.generate().publicKey; // claims another key
  await writeFrame(auth, encodeCbor({ id, sig }));
  const verdict = await reader.readExact(1, "verdict");
  if (verdict) await auth.closeWrite();
  return verdict;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `quic auth: ${name}`, fn, sanitizeOps: false, sanitizeResources: false });

test("control: a client with a good proof is accepted and its stream served", async () => {
  const s = await server();
  const c = await client(s.port, s.ctx.keyPair.publicKey, "good");
  try {
    assertEquals(c.verdict?.[0], 1, "the server accepted the proof");
    const inbound = await within(s.ctx.nextInbound(), 5_000, "inbound connection");
    assertEquals(inbound.remoteId.bytes, c.id);
    const stream = await openProbe(c.conn);
    const reply = await within(stream.read(), 5_000, "reply");
    assert(reply !== null && reply.length > 0, "the stream was answered");
    assertEquals(s.served, [PROTOCOL]);
  } finally {
    c.conn.close();
    c.endpoint.close();
    await s.t.close();
  }
});

for (const behaviour of ["bad-signature", "wrong-id"] as const) {
  test(`a client with a bad proof (${behaviour}) is refused; no stream is served`, async () => {
    const s = await server();
    const c = await client(s.port, s.ctx.keyPair.publicKey, behaviour);
    try {
      assertEquals(c.verdict, null, "no verdict for a bad proof");
      const info = await within(c.closed, 5_000, "connection closed");
      assertEquals(info.closeCode, QUIC_CLOSE.authFailed);
      const probe = await openProbe(c.conn).catch(() => null); // the connection is gone: this cannot be served
      await probe?.read().catch(() => null);
      assertEquals(s.served, []);
      assertEquals(s.ctx.inbound.length, 0, "no connection was handed to the node");
      assertEquals(s.ctx.handshakeErrors.length, 1);
      assert(/bad signature/.test(s.ctx.handshakeErrors[0].message), s.ctx.handshakeErrors[0].message);
    } finally {
      c.conn.close();
      c.endpoint.close();
      await s.t.close();
    }
  });
}

test("a client that sends no proof is cut off at the handshake budget; no stream is served", async () => {
  const s = await server(1_000);
  const started = performance.now();
  const c = await client(s.port, s.ctx.keyPair.publicKey, "no-proof");
  try {
    const info = await within(c.closed, 5_000, "connection closed");
    const elapsed = performance.now() - started;
    assertEquals(info.closeCode, QUIC_CLOSE.authFailed);
    assert(elapsed >= 900 && elapsed < 4_000, `closed after ${elapsed.toFixed(0)} ms, budget 1000 ms`);
    assertEquals(s.served, []);
    assertEquals(s.ctx.inbound.length, 0);
    assertEquals(s.refused, ["deadline"]);
  } finally {
    c.conn.close();
    c.endpoint.close();
    await s.t.close();
  }
});

test("a client that opens a stream before its proof is refused, even with a good proof; nothing served", async () => {
  const s = await server();
  const c = await client(s.port, s.ctx.keyPair.publicKey, "stream-first");
  try {
    const info = await within(c.closed, 5_000, "connection closed");
    assertEquals(info.closeCode, QUIC_CLOSE.authFailed);
    assert(c.verdict === null || c.verdict[0] !== 1, "no accepting verdict");
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(s.served, [], "the early stream was never served");
    assertEquals(s.ctx.inbound.length, 0, "no connection was handed to the node");
    assert(/before its identity proof/.test(s.ctx.handshakeErrors[0]?.message ?? ""), "refused for the early stream");
  } finally {
    c.conn.close();
    c.endpoint.close();
    await s.t.close();
  }
});
