import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { MEMORY_WINDOW, MemoryNetwork, memoryStreamPair, MemoryTransport } from "../../src/transport/memory.ts";
import { StreamClosedError, StreamResetError } from "../../src/transport/stream.ts";
import type { ByteStream } from "../../src/transport/stream.ts";
import type { CloseInfo, Session } from "../../src/transport/session.ts";
import {
  ConnectionClosedError,
  DialError,
  PeerIdMismatchError,
  ProtocolRefusedError,
} from "../../src/transport/errors.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { utf8 } from "../../src/util/bytes.ts";
import { deferred, sleep } from "../../src/util/async.ts";
import { echo, readAll, testContext } from "../helpers/transport_context.ts";

const newId = () => new NodeId(KeyPair.generate().publicKey);
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

/** Has `p` settled after the current macrotask? */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => done = true, () => done = true);
  await sleep(0);
  return done;
}

// ---------------------------------------------------------------- streams

Deno.test("memory stream: data flows both ways in order", async () => {
  const [a, b] = memoryStreamPair();
  await a.write(utf8("one"));
  await a.write(utf8("two"));
  await b.write(utf8("back"));
  assertEquals(await b.read(), utf8("one"));
  assertEquals(await b.read(), utf8("two"));
  assertEquals(await a.read(), utf8("back"));
});

Deno.test("memory stream: the writer blocks once `window` bytes are unread, until the reader reads", async () => {
  const [a, b] = memoryStreamPair(8);
  await a.write(bytes(5));
  await a.write(bytes(3)); // exactly the window
  const blocked = a.write(bytes(2, 7));
  assertEquals(await settled(blocked), false, "write must wait for credit");
  assertEquals(await b.read(), bytes(5));
  assertEquals(await settled(blocked), true, "reading must reopen the window");
  await blocked;
  assertEquals(await b.read(), bytes(3));
  assertEquals(await b.read(), bytes(2, 7));
});

Deno.test("memory stream: a reader waiting for data grants credit immediately", async () => {
  const [a, b] = memoryStreamPair(4);
  const r1 = b.read();
  await a.write(bytes(4)); // handed straight to the waiting reader
  assertEquals(await r1, bytes(4));
  // the window is open again: a further window-sized write does not block
  assertEquals(await settled(a.write(bytes(4))), true);
});

Deno.test("memory stream: the default window is MEMORY_WINDOW", async () => {
  const [a, b] = memoryStreamPair();
  await a.write(bytes(MEMORY_WINDOW));
  const blocked = a.write(bytes(1));
  assertEquals(await settled(blocked), false);
  await b.read();
  await blocked;
});

Deno.test("memory stream: concurrent blocked writes all complete, in call order", async () => {
  const [a, b] = memoryStreamPair(4);
  await a.write(bytes(4, 0)); // window used up
  const w1 = a.write(bytes(1, 1));
  const w2 = a.write(bytes(1, 2));
  const results = Promise.allSettled([w1, w2]);
  const got: number[] = [];
  for (let i = 0; i < 3; i++) {
    const chunk = await Promise.race([b.read(), sleep(100).then(() => null)]);
    if (chunk === null) break;
    got.push(chunk[0]);
  }
  const bothDone = await Promise.race([results.then(() => true), sleep(100).then(() => false)]);
  a.reset("test over");
  assert(bothDone, "a write blocked on credit never settled when another write was also blocked");
  assertEquals(got, [0, 1, 2], "concurrent writes must be delivered in call order");
});

Deno.test("memory stream: closeWrite after a write that waits for credit still delivers that write", async () => {
  const [a, b] = memoryStreamPair(4);
  await a.write(bytes(4, 0));
  const pendingWrite = a.write(bytes(2, 9));
  pendingWrite.catch(() => {});
  await a.closeWrite();
  const received = await Promise.race([readAll(b), sleep(100).then(() => null)]);
  const writeOutcome = await pendingWrite.then(() => "ok", (e) => (e as Error).name);
  assertEquals(writeOutcome, "ok", "a write issued before closeWrite() must not fail");
  assertEquals(received, new Uint8Array([0, 0, 0, 0, 9, 9]));
});

Deno.test("memory stream: half-close in both directions, then closed resolves on both ends", async () => {
  const [a, b] = memoryStreamPair();
  await a.write(utf8("request"));
  await a.closeWrite();
  await a.closeWrite(); // idempotent
  await assertRejects(() => a.write(utf8("more")), StreamClosedError);
  assertEquals(await b.read(), utf8("request"));
  assertEquals(await b.read(), null);
  assertEquals(await b.read(), null);
  assertEquals(await settled(a.closed), false, "a is still open for reading");
  assertEquals(await settled(b.closed), false, "b is still open for writing");
  // the other direction still works
  await b.write(utf8("response"));
  assertEquals(await a.read(), utf8("response"));
  await b.closeWrite();
  assertEquals(await a.read(), null);
  await a.closed;
  await b.closed;
});

Deno.test("memory stream: a pending read gets null when the peer half-closes", async () => {
  const [a, b] = memoryStreamPair();
  const r = b.read();
  await a.closeWrite();
  assertEquals(await r, null);
});

Deno.test("memory stream: reset rejects reads and writes on both ends with StreamResetError", async () => {
  const [a, b] = memoryStreamPair(4);
  await b.write(bytes(4)); // fill b -> a; queued data is dropped by the reset
  const pendingRead = b.read();
  const blockedWrite = b.write(bytes(1)); // waiting for credit
  a.reset("had enough");
  await assertRejects(() => pendingRead, StreamResetError, "reset by peer: had enough");
  await assertRejects(() => blockedWrite, StreamResetError, "had enough");
  await assertRejects(() => a.read(), StreamResetError, "had enough");
  await assertRejects(() => a.write(bytes(1)), StreamResetError, "had enough");
  await assertRejects(() => b.read(), StreamResetError, "reset by peer");
  await assertRejects(() => b.write(bytes(1)), StreamResetError, "reset by peer");
  await assertRejects(() => a.closeWrite(), StreamResetError);
  await assertRejects(() => b.closeWrite(), StreamResetError);
  await a.closed;
  await b.closed;
});

Deno.test("memory stream: reset of a half-closed stream still fails the open direction", async () => {
  const [a, b] = memoryStreamPair();
  await a.closeWrite();
  assertEquals(await b.read(), null);
  b.reset();
  await assertRejects(() => a.read(), StreamResetError, "stream was reset by peer");
  await assertRejects(() => b.write(bytes(1)), StreamResetError, "stream was reset");
  await a.closed;
  await b.closed;
});

Deno.test("memory stream: reset after a clean close is a no-op", async () => {
  const [a, b] = memoryStreamPair();
  await a.closeWrite();
  await b.closeWrite();
  assertEquals(await a.read(), null);
  a.reset();
  assertEquals(await b.read(), null, "a finished stream must stay cleanly ended");
});

// ---------------------------------------------------------------- network

function sessionPair(network = new MemoryNetwork()) {
  const server = newId();
  const client = newId();
  const accepted: Session[] = [];
  network.listen("srv", server, (s) => accepted.push(s));
  const outbound = network.connect("srv", client, "cli", server);
  assertEquals(accepted.length, 1);
  return { network, server, client, outbound, inbound: accepted[0] };
}

Deno.test("memory network: connect yields a matching pair of sessions", () => {
  const { server, client, outbound, inbound } = sessionPair();
  assertEquals(outbound.kind, "memory");
  assertEquals(outbound.direction, "outbound");
  assertEquals(inbound.direction, "inbound");
  assert(outbound.localId.equals(client) && outbound.remoteId.equals(server));
  assert(inbound.localId.equals(server) && inbound.remoteId.equals(client));
  assertEquals(outbound.remoteAddress, "srv");
  assertEquals(inbound.remoteAddress, "cli");
});

Deno.test("memory network: dialing an unknown name is a DialError", () => {
  const network = new MemoryNetwork();
  assertThrows(
    () => network.connect("nobody", newId(), "me", newId()),
    DialError,
    "nothing listens on memory://nobody",
  );
});

Deno.test("memory network: the wrong expected id is a PeerIdMismatchError naming both ids", () => {
  const network = new MemoryNetwork();
  const real = newId();
  const expected = newId();
  let accepted = 0;
  network.listen("x", real, () => accepted++);
  const e = assertThrows(() => network.connect("x", newId(), "me", expected), PeerIdMismatchError);
  assert(e.message.includes(real.did) && e.message.includes(expected.did), e.message);
  assertEquals(accepted, 0, "the listener must not see a session for a mismatched dial");
});

Deno.test("memory network: a name can be listened on once; unlisten frees it", () => {
  const network = new MemoryNetwork();
  const id = newId();
  const unlisten = network.listen("dup", id, () => {});
  assertThrows(() => network.listen("dup", newId(), () => {}), DialError, "already in use");
  unlisten();
  assertThrows(() => network.connect("dup", newId(), "me", id), DialError, "nothing listens");
  network.listen("dup", id, () => {});
});

Deno.test("memory network: streams opened on one side arrive on the other, even before onStream", async () => {
  const { outbound, inbound } = sessionPair();
  const early = await outbound.openStream();
  await early.write(utf8("early"));
  const arrived: ByteStream[] = [];
  const got = deferred<void>();
  inbound.onStream((s) => {
    arrived.push(s);
    if (arrived.length === 2) got.resolve();
  });
  const late = await outbound.openStream();
  await late.write(utf8("late"));
  await got.promise;
  assertEquals(await arrived[0].read(), utf8("early"));
  assertEquals(await arrived[1].read(), utf8("late"));
  // and in the other direction
  const back = deferred<ByteStream>();
  outbound.onStream((s) => back.resolve(s));
  const s = await inbound.openStream();
  await s.write(utf8("hi"));
  assertEquals(await (await back.promise).read(), utf8("hi"));
});

Deno.test("memory network: the network window applies to session streams", async () => {
  const { outbound, inbound } = sessionPair(new MemoryNetwork({ window: 3 }));
  const remote = deferred<ByteStream>();
  inbound.onStream((s) => remote.resolve(s));
  const s = await outbound.openStream();
  await s.write(bytes(3));
  const blocked = s.write(bytes(1));
  assertEquals(await settled(blocked), false);
  await (await remote.promise).read();
  await blocked;
});

Deno.test("memory network: closing a session resets its streams and resolves closed on both sides", async () => {
  const { outbound, inbound } = sessionPair();
  const remote = deferred<ByteStream>();
  inbound.onStream((s) => remote.resolve(s));
  const local = await outbound.openStream();
  const peer = await remote.promise;
  const pendingRead = peer.read();
  outbound.close("bye", new Error("cause"));
  const [out, inn]: CloseInfo[] = await Promise.all([outbound.closed, inbound.closed]);
  assertEquals(out.reason, "bye");
  assertEquals(out.local, true);
  assertEquals(out.error?.message, "cause");
  assertEquals(inn.reason, "closed by peer: bye");
  assertEquals(inn.local, false);
  await assertRejects(() => pendingRead, StreamResetError, "connection closed");
  await assertRejects(() => local.read(), StreamResetError, "connection closed");
  await assertRejects(() => local.write(bytes(1)), StreamResetError);
  await assertRejects(() => peer.write(bytes(1)), StreamResetError);
  await local.closed;
  await peer.closed;
  await assertRejects(() => outbound.openStream(), ConnectionClosedError);
  await assertRejects(() => inbound.openStream(), ConnectionClosedError);
  // close is idempotent and does not change the recorded outcome
  inbound.close("again");
  outbound.close("again");
  assertEquals((await outbound.closed).reason, "bye");
  assertEquals((await inbound.closed).local, false);
});

Deno.test("memory network: the accepting side may close too", async () => {
  const { outbound, inbound } = sessionPair();
  inbound.close("server shutting down");
  assertEquals(await inbound.closed, { reason: "server shutting down", local: true, error: undefined });
  assertEquals((await outbound.closed).reason, "closed by peer: server shutting down");
  assertEquals((await outbound.closed).local, false);
});

// ---------------------------------------------------------------- transport

Deno.test("memory transport: listen, dial, negotiate and close", async () => {
  const network = new MemoryNetwork();
  const a = testContext();
  const b = testContext();
  const ta = new MemoryTransport(network, "a");
  const tb = new MemoryTransport(network, "b");
  await ta.start(a);
  assertEquals(tb.listenAddresses, []);
  await tb.start(b);
  await tb.start(b); // idempotent
  assertEquals(tb.listenAddresses, [{ type: "direct", kind: "memory", host: "b", port: 0 }]);
  b.handlers.set("/echo/1", echo);
  const conn = await ta.dial({ type: "direct", kind: "memory", host: "b", port: 0 }, b.localId);
  const inbound = await b.nextInbound();
  assert(conn.remoteId.equals(b.localId));
  assert(inbound.remoteId.equals(a.localId));
  assertEquals(conn.transport, "memory");
  const s = await conn.openStream("/echo/1");
  await s.write(utf8("x"));
  await s.closeWrite();
  assertEquals(await readAll(s), utf8("x"));
  await assertRejects(() => conn.openStream("/other/1"), ProtocolRefusedError);
  await tb.close();
  assertEquals(tb.listenAddresses, []);
  const info = await conn.closed;
  assertEquals(info.local, false);
  await inbound.closed;
  await assertRejects(() => ta.dial({ type: "direct", kind: "memory", host: "b", port: 0 }, b.localId), DialError);
});

Deno.test("memory transport: dial errors are typed", async () => {
  const network = new MemoryNetwork();
  const a = testContext();
  const b = testContext();
  const ta = new MemoryTransport(network, "a");
  await ta.start(a);
  await new MemoryTransport(network, "b").start(b);
  await assertRejects(() => ta.dial({ type: "direct", kind: "memory", host: "zzz", port: 0 }, b.localId), DialError);
  await assertRejects(
    () => ta.dial({ type: "direct", kind: "memory", host: "b", port: 0 }, newId()),
    PeerIdMismatchError,
  );
  const ac = new AbortController();
  ac.abort();
  await assertRejects(() =>
    ta.dial({ type: "direct", kind: "memory", host: "b", port: 0 }, b.localId, { signal: ac.signal })
  );
  assertEquals(b.inbound.length, 0);
});

Deno.test("memory transport: two transports cannot listen on the same name", async () => {
  const network = new MemoryNetwork();
  await new MemoryTransport(network, "same").start(testContext());
  await assertRejects(() => new MemoryTransport(network, "same").start(testContext()), DialError, "in use");
});
