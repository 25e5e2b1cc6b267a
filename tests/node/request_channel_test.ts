/**
 * `RequestChannel` + `serveRequests` between real in-memory nodes: round
 * trips, many requests on one stream matched by id, remote errors, bad
 * input closing the connection, peers that die, deadlines, the concurrency
 * bound, and the real (module-private) envelope and RPC request decoders
 * against mutated input.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { mutate, rng } from "../helpers/mutate.ts";
import { MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import type { Connection } from "../../src/transport/connection.ts";
import { RemoteError, RequestChannel, serveRequests } from "../../src/node/request-channel.ts";
import { RemoteHandlerError } from "../../src/node/envelope.ts";
import { RPC_PROTOCOL } from "../../src/rpc/rpc.ts";
import { ConnectionClosedError } from "../../src/transport/errors.ts";
import { AbortedError, TimeoutError } from "../../src/util/async.ts";
import { MaculaError } from "../../src/util/errors.ts";
import { decodeCbor, encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { object, str, uint } from "../../src/wire/schema.ts";
import type { NodeId } from "../../src/identity/node-id.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const PROTO = "/test/echo/1";

const validateReq = object({ n: uint(), delay: uint({ max: 10_000 }), text: str({ max: 100 }) });
const validateRes = object({ n: uint(), from: str({ max: 200 }) });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pair(): Promise<{ a: Node; b: Node; network: MemoryNetwork }> {
  const network = new MemoryNetwork();
  const a = await memoryNode(network);
  const b = await memoryNode(network);
  await a.connect(b.addrs[0]);
  return { a, b, network };
}

/** Echo server: replies `{ n, from }` after `delay` ms; counts concurrent executions. */
function serveEcho(node: Node, options: { maxConcurrent?: number } = {}) {
  const stats = { running: 0, max: 0, calls: 0 };
  const off = serveRequests(node, PROTO, validateReq, async (from: NodeId, req) => {
    stats.calls++;
    stats.running++;
    stats.max = Math.max(stats.max, stats.running);
    try {
      if (req.delay) await sleep(req.delay);
      if (req.text === "maculaerror") throw new MaculaError("E_SENSOR_OFFLINE", "sensor t1 is offline");
      if (req.text === "bad-code") throw new MaculaError("SENSOR", "code without the E_ prefix");
      if (req.text === "plain") throw new Error("something broke");
      if (req.text === "string") throw "a thrown string";
      if (req.text === "long") throw new MaculaError("E_" + "X".repeat(100), "m".repeat(5000));
      if (req.text === "bad-reply") return { n: "not a number", from: from.did };
      return { n: req.n, from: from.did };
    } finally {
      stats.running--;
    }
  }, options);
  return { stats, off };
}

Deno.test({
  name: "round trip: the handler sees the caller's id and the reply is validated",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      serveEcho(b);
      const channel = new RequestChannel(a, PROTO, validateRes);
      assertEquals(await channel.request(b.id, { n: 1, delay: 0, text: "" }), { n: 1, from: a.did });
      assertEquals(await channel.request(b.id, { n: 2, delay: 0, text: "" }), { n: 2, from: a.did });
      // requestOn over an explicit connection.
      assertEquals(await channel.requestOn(a.connection(b.id)!, { n: 3, delay: 0, text: "" }), { n: 3, from: a.did });
      // And the other way round, each side can serve and ask.
      serveEcho(a);
      assertEquals(await new RequestChannel(b, PROTO, validateRes).request(a.id, { n: 4, delay: 0, text: "" }), {
        n: 4,
        from: b.did,
      });
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "200 concurrent requests share one stream; replies match by id when handlers finish out of order",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      const { stats } = serveEcho(b, { maxConcurrent: 256 });
      const channel = new RequestChannel(a, PROTO, validateRes);
      // Let identify/ping of the new connection settle first.
      await until(() => typeof a.peers()[0]?.rtt === "number", 2000, "identify and ping");
      const conn = a.connection(b.id)!;
      let maxStreams = 0;
      const sampler = setInterval(() => maxStreams = Math.max(maxStreams, conn.activeStreams), 1);
      const r = rng(5);
      const finished: number[] = [];
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, n) => {
          const delay = Math.floor(r() * 30);
          return channel.request(b.id, { n, delay, text: "" }).then((res) => {
            finished.push(n);
            return res;
          });
        }),
      );
      clearInterval(sampler);
      maxStreams = Math.max(maxStreams, conn.activeStreams);
      for (let n = 0; n < 200; n++) assertEquals(results[n], { n, from: a.did });
      assertEquals(stats.calls, 200);
      assert(stats.max > 50, `handlers overlapped (${stats.max} at once)`);
      assert(finished.some((n, i) => i > 0 && n < finished[i - 1]), "handlers did finish out of order");
      assert(maxStreams <= 3, `${maxStreams} streams were open at once`);
      assert(a.connection(b.id) === conn, "same connection throughout");
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "a handler's MaculaError becomes a RemoteError with its code; other errors become RemoteHandlerError",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      serveEcho(b);
      const channel = new RequestChannel(a, PROTO, validateRes);
      const e1 = await assertRejects(
        () => channel.request(b.id, { n: 1, delay: 0, text: "maculaerror" }),
        RemoteError,
        "sensor t1 is offline",
      ) as RemoteError;
      assertEquals(e1.code, "E_SENSOR_OFFLINE");
      assertEquals(e1.remoteCode, "E_SENSOR_OFFLINE");

      const e2 = await assertRejects(
        () => channel.request(b.id, { n: 2, delay: 0, text: "plain" }),
        RemoteHandlerError,
        "something broke",
      ) as RemoteHandlerError;
      assertEquals(e2.code, "E_REMOTE_HANDLER");
      assertEquals(e2.remoteMessage, "something broke");

      const e3 = await assertRejects(
        () => channel.request(b.id, { n: 3, delay: 0, text: "string" }),
        RemoteHandlerError,
        "a thrown string",
      ) as RemoteHandlerError;
      assertEquals(e3.code, "E_REMOTE_HANDLER");

      const e4 = await assertRejects(
        () => channel.request(b.id, { n: 4, delay: 0, text: "bad-code" }),
        RemoteError,
      ) as RemoteError;
      assertEquals(e4.remoteCode, "SENSOR", "the peer's code is kept");
      assertEquals(e4.code, "E_REMOTE", "but only E_ codes are adopted as ours");

      const e5 = await assertRejects(
        () => channel.request(b.id, { n: 5, delay: 0, text: "long" }),
        RemoteError,
      ) as RemoteError;
      assertEquals(e5.remoteCode.length, 64, "code truncated to 64");
      assertEquals(e5.message.length, 1000, "message truncated to 1000");

      // Errors are per request: the stream and connection stay up.
      assertEquals(await channel.request(b.id, { n: 6, delay: 0, text: "" }), { n: 6, from: a.did });
      assertEquals(b.metrics.protocolViolations.get(), 0);
      assertEquals(a.metrics.protocolViolations.get(), 0);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "an invalid request body is a WireError: the server closes the connection as a protocol violation",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      serveEcho(b);
      const channel = new RequestChannel(a, PROTO, validateRes);
      assertEquals(await channel.request(b.id, { n: 1, delay: 0, text: "" }), { n: 1, from: a.did });
      // A slow valid request is in flight on the same stream when the bad one arrives.
      const slow = channel.request(b.id, { n: 2, delay: 200, text: "" });
      slow.catch(() => {});
      const bad = channel.request(b.id, { n: "one", delay: 0, text: "" });
      await assertRejects(() => bad, ConnectionClosedError);
      await assertRejects(() => slow, ConnectionClosedError);
      assertEquals(b.metrics.protocolViolations.get(), 1);
      assertEquals(b.metrics.wireErrors.get({ type: `${PROTO} request` }), 1);
      assertEquals(a.metrics.protocolViolations.get(), 0, "the client did nothing wrong");
      await until(() => !a.connection(b.id) && !b.connection(a.id), 2000, "connection closed");
      // The channel recovers on a new connection.
      assertEquals(await channel.request(b.id, { n: 3, delay: 0, text: "" }), { n: 3, from: a.did });
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "an invalid reply is a WireError at the client, which closes the connection",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      serveEcho(b);
      const channel = new RequestChannel(a, PROTO, validateRes);
      await assertRejects(() => channel.request(b.id, { n: 1, delay: 0, text: "bad-reply" }), WireError, "reply");
      assertEquals(a.metrics.protocolViolations.get(), 1);
      await until(() => !a.connection(b.id), 2000, "connection closed");
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "a peer stopped mid-request: every pending request rejects with ConnectionClosedError",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      const { stats } = serveEcho(b);
      const channel = new RequestChannel(a, PROTO, validateRes);
      const pending = Array.from({ length: 10 }, (_, n) => channel.request(b.id, { n, delay: 5_000, text: "" }));
      for (const p of pending) p.catch(() => {});
      await until(() => stats.running === 10, 2000, "all requests are being handled");
      const started = Date.now();
      await b.stop();
      for (const p of pending) await assertRejects(() => p, ConnectionClosedError);
      assert(Date.now() - started < 2_000, "rejected promptly, not at the deadline");
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "deadline: TimeoutError, and a late reply does not disturb later requests",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      serveEcho(b);
      const channel = new RequestChannel(a, PROTO, validateRes);
      const started = Date.now();
      await assertRejects(
        () => channel.request(b.id, { n: 1, delay: 300, text: "" }, { timeout: 50 }),
        TimeoutError,
        "timed out after 50 ms",
      );
      assert(Date.now() - started < 250);
      // While the late reply to n=1 is still on its way, other requests work and get their own replies.
      assertEquals(await channel.request(b.id, { n: 2, delay: 0, text: "" }), { n: 2, from: a.did });
      await sleep(300); // the late reply arrives and is ignored
      assertEquals(await channel.request(b.id, { n: 3, delay: 0, text: "" }), { n: 3, from: a.did });
      assertEquals(a.metrics.protocolViolations.get(), 0);
      // Abort through a signal.
      const controller = new AbortController();
      const p = channel.request(b.id, { n: 4, delay: 300, text: "" }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assertRejects(() => p, AbortedError);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "maxConcurrent bounds concurrent handler executions per stream",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      const { stats } = serveEcho(b, { maxConcurrent: 4 });
      const channel = new RequestChannel(a, PROTO, validateRes);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, n) => channel.request(b.id, { n, delay: 5, text: "" })),
      );
      assertEquals(results.map((r) => r.n), Array.from({ length: 40 }, (_, n) => n));
      assertEquals(stats.max, 4, "exactly the bound, never more");
      assertEquals(stats.calls, 40);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test({
  name: "a client that half-closes after its requests still gets every reply",
  ...opts,
  async fn() {
    // The envelope protocol allows a client to send its requests and then
    // close its write side. serveRequests stops reading at the end of the
    // stream and closes its own write side after the replies already *sent*,
    // without waiting for handlers still running: their replies are lost.
    const { a, b } = await pair();
    try {
      serveEcho(b);
      const stream = await a.connection(b.id)!.openStream(PROTO);
      await stream.writeMessage({ i: 1, b: { n: 1, delay: 0, text: "" } });
      await stream.writeMessage({ i: 2, b: { n: 2, delay: 30, text: "" } });
      await stream.closeWrite();
      const replies: unknown[] = [];
      while (true) {
        const frame = await stream.readFrame();
        if (frame === null) break;
        replies.push(decodeCbor(frame, "reply"));
      }
      assertEquals(replies.length, 2, `replies: ${JSON.stringify(replies)}`);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});

/**
 * Send `frame` as one request frame on a fresh stream of `protocol` to `b`
 * and report what happened: a reply, or the connection being closed.
 */
async function probe(
  a: Node,
  b: Node,
  protocol: string,
  frame: Uint8Array,
): Promise<{ outcome: "reply" | "closed"; conn: Connection }> {
  const conn = await a.connect(b.id);
  const stream = await conn.openStream(protocol);
  await stream.writeFrame(frame);
  try {
    const reply = await stream.readFrame();
    if (reply === null) return { outcome: "closed", conn };
    stream.reset("done");
    return { outcome: "reply", conn };
  } catch {
    return { outcome: "closed", conn };
  }
}

Deno.test({
  name: "the real envelope and RPC request decoders: mutated requests get a reply or a protocol-violation close",
  ...opts,
  async fn() {
    const { a, b } = await pair();
    try {
      const FUZZ = "/test/fuzz/1";
      serveRequests(
        b,
        FUZZ,
        object({ n: uint(), text: str({ max: 100 }) }),
        (from, req) => ({ ...req, from: from.did }),
      );
      b.advertise("math.add", (args) => {
        const [x, y] = args as number[];
        return x + y;
      });
      const targets: Array<[string, Uint8Array]> = [
        [FUZZ, encodeCbor({ i: 7, b: { n: 1, text: "hello" } })],
        [RPC_PROTOCOL, encodeCbor({ i: 9, b: { r: "default", p: "math.add", a: [2, 3] } })],
      ];
      for (const [protocol, valid] of targets) {
        assertEquals((await probe(a, b, protocol, valid)).outcome, "reply", `${protocol}: the valid request`);
        const violationsBefore = b.metrics.protocolViolations.get();
        let closed = 0;
        let replied = 0;
        for (let i = 0; i < 1500; i++) {
          const { outcome, conn } = await probe(a, b, protocol, mutate(valid, i));
          if (outcome === "closed") {
            closed++;
            // Closed only because the input was rejected as bad wire input: that connection
            // ends (a may still reach b through another one, e.g. one b dialed itself).
            await until(() => conn.isClosed, 1000, `case ${i}: connection closed`);
          } else {
            replied++;
          }
        }
        assertEquals(
          b.metrics.protocolViolations.get() - violationsBefore,
          closed,
          `${protocol}: every close is a violation`,
        );
        assert(closed > 500 && replied > 50, `${protocol}: closed ${closed}, replied ${replied}`);
      }
      assertEquals(b.metrics.handlerErrors.get({ protocol: FUZZ }), 0, "no decoder threw anything but a WireError");
      assertEquals(b.metrics.handlerErrors.get({ protocol: RPC_PROTOCOL }), 0);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});
