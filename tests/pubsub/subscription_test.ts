/** Subscriptions: handler delivery, handler errors, the bounded iterator, and closing. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { type PubSubMessage, Subscription } from "../../src/pubsub/subscription.ts";

const publisher = new NodeId(new Uint8Array(32).fill(7));

function msg(seq: number, topic = "a.b"): PubSubMessage {
  return { realm: "default", topic, payload: { n: seq }, publisher, seq };
}

interface Hooks {
  closed: Subscription[];
  errors: unknown[];
  hooks: { onClose: (s: Subscription) => void; onHandlerError: (e: unknown) => void; bufferSize?: number };
}

function hooks(bufferSize?: number): Hooks {
  const closed: Subscription[] = [];
  const errors: unknown[] = [];
  return {
    closed,
    errors,
    hooks: { onClose: (s) => closed.push(s), onHandlerError: (e) => errors.push(e), bufferSize },
  };
}

/** Resolve `p`, or fail after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer!);
  }
}

Deno.test("handler receives every message in order; pattern and realm are kept", () => {
  const h = hooks();
  const got: PubSubMessage[] = [];
  const sub = new Subscription("a.*", "io.example.app", (m) => {
    got.push(m);
  }, h.hooks);
  assertEquals(sub.pattern, "a.*");
  assertEquals(sub.realm, "io.example.app");
  for (let i = 1; i <= 100; i++) sub.deliver(msg(i));
  assertEquals(got.map((m) => m.seq), Array.from({ length: 100 }, (_, i) => i + 1));
  assertEquals(got[5].payload, { n: 6 });
  assertEquals(sub.dropped, 0, "handlers never drop");
  assertEquals(h.errors, []);
});

Deno.test("handler errors (sync throw and async rejection) go to onHandlerError, never to the deliverer", async () => {
  const h = hooks();
  const seen: number[] = [];
  const sub = new Subscription("a.b", "default", (m) => {
    seen.push(m.seq);
    if (m.seq === 2) throw new Error("sync boom");
    if (m.seq === 3) return Promise.reject(new Error("async boom"));
    if (m.seq === 4) {
      return (async () => {
        await null;
        throw new TypeError("later boom");
      })();
    }
  }, h.hooks);
  for (let i = 1; i <= 5; i++) sub.deliver(msg(i)); // must not throw
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(seen, [1, 2, 3, 4, 5], "delivery goes on after a failure");
  assertEquals(h.errors.map((e) => (e as Error).message).sort(), ["async boom", "later boom", "sync boom"]);
  assert(h.errors.some((e) => e instanceof TypeError));
  // Non-Error throwables are reported as they are.
  const h2 = hooks();
  const sub2 = new Subscription("a.b", "default", () => {
    throw "plain string";
  }, h2.hooks);
  sub2.deliver(msg(1));
  assertEquals(h2.errors, ["plain string"]);
  assert(!sub.closed, "a failing handler does not close the subscription");
});

Deno.test("a return value without a catch method is ignored", () => {
  const h = hooks();
  const sub = new Subscription("a.b", "default", () => ({ then: 1, catch: "no" }), h.hooks);
  sub.deliver(msg(1));
  assertEquals(h.errors, []);
});

Deno.test("iterator yields buffered and live messages in order", async () => {
  const h = hooks();
  const sub = new Subscription("a.b", "default", undefined, h.hooks);
  sub.deliver(msg(1));
  sub.deliver(msg(2));
  const got: number[] = [];
  const loop = (async () => {
    for await (const m of sub) {
      got.push(m.seq);
      if (m.seq === 5) break;
    }
  })();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(got, [1, 2], "buffered messages first");
  sub.deliver(msg(3));
  await new Promise((r) => setTimeout(r, 0));
  sub.deliver(msg(4));
  sub.deliver(msg(5));
  sub.deliver(msg(6));
  await within(loop, 1000, "loop ends at 5");
  assertEquals(got, [1, 2, 3, 4, 5]);
});

Deno.test("the iterator buffer is bounded: the oldest are dropped and counted", async () => {
  const h = hooks(10);
  const sub = new Subscription("a.b", "default", undefined, h.hooks);
  for (let i = 1; i <= 25; i++) sub.deliver(msg(i));
  assertEquals(sub.dropped, 15);
  const got: number[] = [];
  for await (const m of sub) {
    got.push(m.seq);
    if (got.length === 10) break;
  }
  assertEquals(got, Array.from({ length: 10 }, (_, i) => 16 + i), "the newest 10 survive");
  // Default bound is 1024.
  const big = new Subscription("a.b", "default", undefined, hooks().hooks);
  for (let i = 1; i <= 1030; i++) big.deliver(msg(i));
  assertEquals(big.dropped, 6);
  big.unsubscribe();
});

Deno.test("breaking out of for await unsubscribes; onClose is called once", async () => {
  const h = hooks();
  const sub = new Subscription("a.b", "default", undefined, h.hooks);
  sub.deliver(msg(1));
  for await (const _ of sub) break;
  assert(sub.closed);
  assertEquals(h.closed, [sub]);
  sub.unsubscribe();
  sub[Symbol.dispose]();
  assertEquals(h.closed.length, 1, "idempotent");
  // Closed subscriptions take no more messages.
  sub.deliver(msg(2));
  let n = 0;
  for await (const _ of sub) n++;
  assertEquals(n, 0);
});

Deno.test("throwing inside for await unsubscribes too", async () => {
  const h = hooks();
  const sub = new Subscription("a.b", "default", undefined, h.hooks);
  sub.deliver(msg(1));
  try {
    for await (const _ of sub) throw new Error("consumer failed");
  } catch (error) {
    assertEquals((error as Error).message, "consumer failed");
  }
  assert(sub.closed);
  assertEquals(h.closed.length, 1);
});

Deno.test("unsubscribe() ends a waiting for await loop", async () => {
  const h = hooks();
  const sub = new Subscription("a.b", "default", undefined, h.hooks);
  const got: number[] = [];
  const loop = (async () => {
    for await (const m of sub) got.push(m.seq);
  })();
  sub.deliver(msg(1));
  await new Promise((r) => setTimeout(r, 0));
  sub.unsubscribe();
  await within(loop, 1000, "loop ends after unsubscribe");
  assertEquals(got, [1]);
  assertEquals(h.closed.length, 1);
  sub.deliver(msg(2));
  assertEquals(got, [1]);
});

Deno.test("unsubscribe() with messages still buffered ends the loop (buffered ones at most)", async () => {
  const h = hooks();
  const sub = new Subscription("a.b", "default", undefined, h.hooks);
  for (let i = 1; i <= 3; i++) sub.deliver(msg(i));
  sub.unsubscribe();
  sub.deliver(msg(4));
  const got: number[] = [];
  await within(
    (async () => {
      for await (const m of sub) got.push(m.seq);
    })(),
    1000,
    "loop ends",
  );
  assert(!got.includes(4), "nothing delivered after unsubscribe");
  assert(got.length <= 3);
});

Deno.test("a handler subscription delivers nothing after unsubscribe; Symbol.dispose unsubscribes", () => {
  const h = hooks();
  const got: number[] = [];
  {
    using sub = new Subscription("a.b", "default", (m) => {
      got.push(m.seq);
    }, h.hooks);
    sub.deliver(msg(1));
  }
  assertEquals(h.closed.length, 1);
  h.closed[0].deliver(msg(2));
  assertEquals(got, [1]);
});

Deno.test("unsubscribe() ends every concurrent for await loop over the subscription", async () => {
  // "Stop receiving; ends any `for await` loop": with two loops waiting at once,
  // only the last waiter is remembered, so the other loop never ends.
  const sub = new Subscription("a.b", "default", undefined, hooks().hooks);
  const loops = [0, 1].map(() =>
    (async () => {
      for await (const _ of sub) { /* drain */ }
    })()
  );
  await new Promise((r) => setTimeout(r, 0));
  sub.unsubscribe();
  await within(Promise.all(loops), 300, "both loops end after unsubscribe()");
});
