/**
 * `PeerSender` with real in-memory nodes: frames reach the peer's pub/sub
 * service complete and in order (across batch boundaries); the queue bound
 * drops the oldest; an unreachable peer drops the queue and is skipped for a
 * while; `idle`, `congested`/`room()` and `close()`.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { PeerSender } from "../../src/pubsub/peer-sender.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import type { Node } from "../../src/api/node.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A direct (unsigned) message frame from `origin`, as the pub/sub service sends it. */
function msgFrame(origin: Node, epoch: number, seq: number, topic: string, payload: unknown): Uint8Array {
  return encodeCbor({ t: "msg", r: "default", o: origin.id.bytes, e: epoch, s: seq, tp: topic, d: payload });
}

function unknownPeer(): NodeId {
  return new NodeId(crypto.getRandomValues(new Uint8Array(32)));
}

Deno.test({
  name: "frames reach the peer complete and in order, across batch boundaries",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    await a.connect(b.addrs[0]);
    const got: number[] = [];
    const sizes: number[] = [];
    b.subscribe("x.y", (m) => {
      const p = m.payload as { n: number; pad: Uint8Array };
      assert(m.publisher.equals(a.id));
      got.push(p.n);
      sizes.push(p.pad.length);
    });
    const drops: string[] = [];
    const sender = new PeerSender(a, b.id, { onDrop: ({ length: n }, why) => drops.push(`${n} ${why}`) });
    assertEquals(sender.peer, b.id);
    assert(sender.idle);
    const epoch = 777;
    let seq = 0;
    const expected: number[] = [];
    // Bursts of small frames, medium frames (several per 64 KiB batch), and
    // one frame larger than a batch on its own; with pauses in between.
    const plan = [
      ...Array(500).fill(10),
      ...Array(60).fill(5_000),
      70_000,
      ...Array(300).fill(100),
      30_000,
      40_000,
    ];
    for (let i = 0; i < plan.length; i++) {
      seq++;
      expected.push(seq);
      sender.send(msgFrame(a, epoch, seq, "x.y", { n: seq, pad: new Uint8Array(plan[i]).fill(seq & 0xff) }));
      if (i === 0) assert(!sender.idle, "busy once something is queued");
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => got.length === expected.length, 5000, `all ${expected.length} messages delivered`);
    // The receiver drops anything that arrives out of order, so completeness proves order too.
    assertEquals(got, expected);
    assertEquals(sizes, plan);
    await until(() => sender.idle, 2000, "sender idle");
    assertEquals(sender.queued, 0);
    assertEquals(drops, []);
    assert(!sender.unreachable);
    // One long-lived stream carried everything.
    assert(a.connection(b.id)!.activeStreams <= 5, `${a.connection(b.id)!.activeStreams} streams`);
    sender.close();
  },
});

Deno.test({
  name: "the queue bound drops the oldest (queue-full); an unreachable peer drops the queue",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    const drops: Array<[number, string]> = [];
    const sender = new PeerSender(a, unknownPeer(), {
      maxQueue: 5,
      retryAfter: 100,
      onDrop: ({ length: n }, why) => drops.push([n, why]),
    });
    for (let i = 0; i < 12; i++) sender.send(encodeCbor({ i }));
    assertEquals(sender.queued, 5, "bounded at maxQueue");
    assertEquals(drops, Array(7).fill([1, "queue-full"]));
    assert(!sender.idle);
    // The pump cannot connect (no address known): the queue is dropped as unreachable.
    await until(() => sender.idle, 2000, "the pump gave up");
    assertEquals(drops.slice(7), [[5, "unreachable"]]);
    assertEquals(sender.queued, 0);
    assert(sender.unreachable);
    // While unreachable, sends are dropped at once.
    sender.send(encodeCbor({ i: 99 }));
    assertEquals(drops.at(-1), [1, "unreachable"]);
    assertEquals(sender.queued, 0);
    // After retryAfter, it tries again (and fails again).
    await until(() => !sender.unreachable, 1000, "retry period over");
    const before = drops.length;
    sender.send(encodeCbor({ i: 100 }));
    assertEquals(sender.queued, 1, "queued again once the retry period is over");
    await until(() => drops.length > before, 2000, "second attempt");
    assertEquals(drops.at(-1), [1, "unreachable"]);
    assert(sender.unreachable);
    sender.close();
  },
});

Deno.test({
  name: "queue-full drops the oldest: the newest maxQueue frames are the ones delivered",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    await a.connect(b.addrs[0]);
    const got: number[] = [];
    b.subscribe("x.y", (m) => {
      got.push(m.seq);
    });
    const drops: Array<[number, string]> = [];
    const sender = new PeerSender(a, b.id, { maxQueue: 5, onDrop: ({ length: n }, why) => drops.push([n, why]) });
    // A burst faster than the pump can start (it runs on the next microtask).
    for (let s = 1; s <= 20; s++) sender.send(msgFrame(a, 3, s, "x.y", s));
    assertEquals(sender.queued, 5);
    await until(() => got.length === 5, 2000, "the 5 newest delivered");
    assertEquals(got, [16, 17, 18, 19, 20]);
    assertEquals(drops, Array(15).fill([1, "queue-full"]));
    await until(() => sender.idle, 1000, "idle");
    sender.close();
  },
});

Deno.test({
  name: "congested and room(): waiters are released when the queue is given up or the sender closes",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    const sender = new PeerSender(a, unknownPeer(), { maxQueue: 8 });
    assert(!sender.congested);
    const started = Date.now();
    await sender.room(5_000); // not congested: at once
    for (let i = 0; i < 6; i++) sender.send(encodeCbor(i));
    assert(!sender.congested, "6 of 8 is not over three quarters");
    sender.send(encodeCbor(6));
    assert(sender.congested, "7 of 8 is");
    await sender.room(5_000); // released when the unreachable peer's queue is dropped
    assert(Date.now() - started < 2_000, "room() resolved long before its deadline");
    assertEquals(sender.queued, 0);

    const other = new PeerSender(a, unknownPeer(), { maxQueue: 4 });
    for (let i = 0; i < 4; i++) other.send(encodeCbor(i));
    assert(other.congested);
    const waiting = other.room(5_000);
    other.close();
    await waiting;
    assert(Date.now() - started < 3_000);
    assertEquals(other.queued, 0);
  },
});

Deno.test({
  name: "close() drops the queue; later sends are counted as dropped (closed), never lost silently",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    await a.connect(b.addrs[0]);
    const got: number[] = [];
    b.subscribe("x.y", (m) => {
      got.push(m.seq);
    });
    const drops: string[] = [];
    const sender = new PeerSender(a, b.id, { onDrop: ({ length: n }, why) => drops.push(`${n} ${why}`) });
    sender.send(msgFrame(a, 1, 1, "x.y", 1));
    await until(() => got.length === 1, 2000, "first message");
    sender.close();
    sender.send(msgFrame(a, 1, 2, "x.y", 2));
    assertEquals(sender.queued, 0);
    assert(sender.idle);
    await new Promise((r) => setTimeout(r, 30));
    assertEquals(got, [1]);
    assertEquals(drops, ["1 closed"], "a send after close is a counted drop");
  },
});

Deno.test({
  name: "a peer that stops: later frames are dropped as unreachable, nothing throws",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    const b = await memoryNode(network);
    await a.connect(b.addrs[0]);
    const got: number[] = [];
    b.subscribe("x.y", (m) => {
      got.push(m.seq);
    });
    const drops: Array<[number, string]> = [];
    const sender = new PeerSender(a, b.id, {
      onDrop: ({ length: n }, why) => drops.push([n, why]),
      connectTimeout: 500,
    });
    sender.send(msgFrame(a, 5, 1, "x.y", null));
    await until(() => got.length === 1, 2000, "delivered while up");
    // delivered is not yet acknowledged: a frame still unacknowledged when b stops is (rightly) a drop too
    await until(() => sender.idle, 2000, "frame 1 acknowledged");
    await b.stop();
    await until(() => !a.connection(b.id), 2000, "a notices b is gone");
    for (let s = 2; s <= 4; s++) sender.send(msgFrame(a, 5, s, "x.y", null));
    await until(() => sender.idle, 3000, "sender gave up");
    assert(sender.unreachable);
    assertEquals(drops.reduce((n, [c]) => n + c, 0), 3);
    assert(drops.every(([, why]) => why === "unreachable"));
    assertEquals(got, [1]);
    sender.close();
  },
});
