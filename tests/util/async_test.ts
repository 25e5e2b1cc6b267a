import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { AbortedError, deferred, sleep, TimeoutError, withDeadline } from "../../src/util/async.ts";
import { MaculaError } from "../../src/util/errors.ts";

/** Collect unhandled promise rejections while `fn` runs (and one macrotask after). */
async function catchUnhandled(fn: () => Promise<void>): Promise<unknown[]> {
  const reasons: unknown[] = [];
  const onUnhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    reasons.push(e.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    await fn();
    await sleep(10);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  return reasons;
}

Deno.test("deferred: exposes resolve and reject", async () => {
  const a = deferred<number>();
  a.resolve(5);
  assertEquals(await a.promise, 5);
  const b = deferred<number>();
  b.reject(new Error("nope"));
  await assertRejects(() => b.promise, Error, "nope");
  const c = deferred<number>();
  c.resolve(Promise.resolve(9));
  assertEquals(await c.promise, 9);
});

Deno.test("errors: TimeoutError and AbortedError are typed MaculaErrors", () => {
  const t = new TimeoutError("late");
  assert(t instanceof MaculaError);
  assertEquals([t.code, t.name, t.message], ["E_TIMEOUT", "TimeoutError", "late"]);
  const a = new AbortedError();
  assertEquals([a.code, a.name, a.message], ["E_ABORTED", "AbortedError", "operation was cancelled"]);
  const cause = new Error("why");
  assert(new AbortedError("x", { cause }).cause === cause);
});

Deno.test("sleep: resolves after roughly the given time", async () => {
  const t0 = performance.now();
  await sleep(30);
  const dt = performance.now() - t0;
  assert(dt >= 25, `slept only ${dt} ms`);
});

Deno.test("sleep: aborting rejects with AbortedError promptly", async () => {
  const ac = new AbortController();
  const t0 = performance.now();
  const p = sleep(10_000, ac.signal);
  setTimeout(() => ac.abort(), 5);
  await assertRejects(() => p, AbortedError);
  assert(performance.now() - t0 < 1_000);
});

Deno.test("sleep: an already-aborted signal rejects immediately", async () => {
  const ac = new AbortController();
  ac.abort();
  await assertRejects(() => sleep(10_000, ac.signal), AbortedError);
});

Deno.test("sleep: a signal aborted after the sleep finished has no effect", async () => {
  const ac = new AbortController();
  await sleep(1, ac.signal);
  ac.abort();
});

Deno.test("withDeadline: resolves with the value when it arrives in time", async () => {
  assertEquals(await withDeadline(Promise.resolve("v"), 1_000, "op"), "v");
  const d = deferred<number>();
  const p = withDeadline(d.promise, 1_000, "op");
  setTimeout(() => d.resolve(3), 5);
  assertEquals(await p, 3);
});

Deno.test("withDeadline: passes a rejection through unchanged", async () => {
  const err = new RangeError("inner");
  const e = await assertRejects(() => withDeadline(Promise.reject(err), 1_000, "op"), RangeError, "inner");
  assert(e === err);
});

Deno.test("withDeadline: times out with TimeoutError naming the operation and the limit", async () => {
  const d = deferred<string>();
  const t0 = performance.now();
  await assertRejects(
    () => withDeadline(d.promise, 20, "TCP dial x"),
    TimeoutError,
    "TCP dial x timed out after 20 ms",
  );
  assert(performance.now() - t0 >= 15);
  d.resolve("too late");
});

Deno.test("withDeadline: a value arriving after the timeout goes to onLate", async () => {
  const d = deferred<string>();
  const late: string[] = [];
  await assertRejects(() => withDeadline(d.promise, 5, "op", { onLate: (v) => late.push(v) }), TimeoutError);
  d.resolve("socket");
  await sleep(0);
  assertEquals(late, ["socket"]);
});

Deno.test("withDeadline: a rejection after the timeout is swallowed", async () => {
  const d = deferred<string>();
  const unhandled = await catchUnhandled(async () => {
    await assertRejects(() => withDeadline(d.promise, 5, "op"), TimeoutError);
    d.reject(new Error("late failure"));
  });
  assertEquals(unhandled, []);
});

Deno.test("withDeadline: aborting rejects with AbortedError; a late value goes to onLate", async () => {
  const d = deferred<string>();
  const ac = new AbortController();
  const late: string[] = [];
  const p = withDeadline(d.promise, 10_000, "handshake", { signal: ac.signal, onLate: (v) => late.push(v) });
  ac.abort();
  await assertRejects(() => p, AbortedError, "handshake was cancelled");
  d.resolve("conn");
  await sleep(0);
  assertEquals(late, ["conn"]);
});

Deno.test("withDeadline: abort after settling has no effect and onLate is not called", async () => {
  const ac = new AbortController();
  const late: number[] = [];
  assertEquals(
    await withDeadline(Promise.resolve(1), 1_000, "op", { signal: ac.signal, onLate: (v) => late.push(v) }),
    1,
  );
  ac.abort();
  await sleep(0);
  assertEquals(late, []);
});

Deno.test("withDeadline: an already-aborted signal rejects with AbortedError", async () => {
  const ac = new AbortController();
  ac.abort();
  await assertRejects(() => withDeadline(deferred<void>().promise, 10_000, "op", { signal: ac.signal }), AbortedError);
});

Deno.test("withDeadline: with an already-aborted signal a late value still reaches onLate", async () => {
  const ac = new AbortController();
  ac.abort();
  const d = deferred<string>();
  const late: string[] = [];
  await assertRejects(
    () => withDeadline(d.promise, 10_000, "TCP dial", { signal: ac.signal, onLate: (v) => late.push(v) }),
    AbortedError,
  );
  d.resolve("socket that must be closed");
  await sleep(0);
  assertEquals(late, ["socket that must be closed"], "the result leaked: onLate was never called");
});

Deno.test("withDeadline: with an already-aborted signal a later rejection is not left unhandled", async () => {
  const ac = new AbortController();
  ac.abort();
  const d = deferred<string>();
  const unhandled = await catchUnhandled(async () => {
    await assertRejects(() => withDeadline(d.promise, 10_000, "op", { signal: ac.signal }), AbortedError);
    d.reject(new Error("connect refused"));
  });
  assertEquals(unhandled.map((r) => (r as Error).message), [], "withDeadline left the input promise unhandled");
});
