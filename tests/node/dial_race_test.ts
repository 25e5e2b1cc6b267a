import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { raceAttempts } from "../../src/node/dial-race.ts";
import { AbortedError, deferred, sleep } from "../../src/util/async.ts";

/** An attempt whose outcome the test controls, recording when it started. */
function controlled<T>(log: string[], name: string) {
  const d = deferred<T>();
  let startedAt: number | undefined;
  return {
    d,
    get started() {
      return startedAt !== undefined;
    },
    get startedAt() {
      return startedAt;
    },
    run: () => {
      startedAt = performance.now();
      log.push(name);
      return d.promise;
    },
  };
}

Deno.test("dial race: an empty attempt list rejects with an empty AggregateError", async () => {
  const e = await assertRejects(() => raceAttempts([], { stagger: 10 }), AggregateError, "no addresses");
  assertEquals((e as AggregateError).errors, []);
});

Deno.test("dial race: a single success resolves with its value", async () => {
  assertEquals(await raceAttempts([() => Promise.resolve("only")], { stagger: 10 }), "only");
});

Deno.test("dial race: the first success wins and later attempts are not started", async () => {
  const log: string[] = [];
  const a = controlled<string>(log, "a");
  const b = controlled<string>(log, "b");
  const race = raceAttempts([a.run, b.run], { stagger: 50 });
  a.d.resolve("A");
  assertEquals(await race, "A");
  await sleep(80);
  assertEquals(log, ["a"], "the second attempt must not start after a winner");
});

Deno.test("dial race: while the first is pending the next starts only after `stagger` ms", async () => {
  const log: string[] = [];
  const a = controlled<string>(log, "a");
  const b = controlled<string>(log, "b");
  const t0 = performance.now();
  const race = raceAttempts([a.run, b.run], { stagger: 60 });
  assertEquals(log, ["a"], "the first attempt starts synchronously");
  await sleep(20);
  if (performance.now() - t0 < 50) assert(!b.started, "second attempt started before the stagger elapsed");
  await sleep(80);
  assert(b.started, "second attempt did not start after the stagger");
  assert(b.startedAt! - t0 >= 55, `second attempt started after ${b.startedAt! - t0} ms`);
  // the later attempt may win while the first is still pending
  b.d.resolve("B");
  assertEquals(await race, "B");
  assertEquals(log, ["a", "b"]);
  a.d.resolve("A-late");
});

Deno.test("dial race: the next attempt starts immediately when the current one fails", async () => {
  const log: string[] = [];
  const a = controlled<string>(log, "a");
  const b = controlled<string>(log, "b");
  const c = controlled<string>(log, "c");
  const t0 = performance.now();
  const race = raceAttempts([a.run, b.run, c.run], { stagger: 5_000 });
  a.d.reject(new Error("a failed"));
  await sleep(0);
  assert(b.started, "b did not start right after a failed");
  assert(!c.started);
  b.d.reject(new Error("b failed"));
  await sleep(0);
  assert(c.started, "c did not start right after b failed");
  assert(c.startedAt! - t0 < 1_000);
  c.d.resolve("C");
  assertEquals(await race, "C");
  assertEquals(log, ["a", "b", "c"]);
});

Deno.test("dial race: an attempt that throws synchronously counts as a failure", async () => {
  const value = await raceAttempts<number>([
    () => {
      throw new Error("sync");
    },
    () => Promise.resolve(7),
  ], { stagger: 5_000 });
  assertEquals(value, 7);
});

Deno.test("dial race: when every attempt fails the AggregateError holds every error in attempt order", async () => {
  const log: string[] = [];
  const a = controlled<string>(log, "a");
  const b = controlled<string>(log, "b");
  const c = controlled<string>(log, "c");
  const race = raceAttempts([a.run, b.run, c.run], { stagger: 5 });
  await sleep(30);
  assertEquals(log, ["a", "b", "c"]);
  // fail them out of order: the aggregate is still ordered by attempt
  const ec = new Error("c");
  const ea = new Error("a");
  const eb = new Error("b");
  c.d.reject(ec);
  a.d.reject(ea);
  b.d.reject(eb);
  const e = await assertRejects(() => race, AggregateError, "every dial attempt failed");
  const errors = (e as AggregateError).errors;
  assertEquals(errors.length, 3);
  assert(errors[0] === ea && errors[1] === eb && errors[2] === ec, "errors are not in attempt order");
});

Deno.test("dial race: late successes after the winner go to onLoser, late failures are ignored", async () => {
  const log: string[] = [];
  const a = controlled<string>(log, "a");
  const b = controlled<string>(log, "b");
  const c = controlled<string>(log, "c");
  const losers: string[] = [];
  const race = raceAttempts([a.run, b.run, c.run], { stagger: 5, onLoser: (v) => losers.push(v) });
  await sleep(30);
  assertEquals(log, ["a", "b", "c"]);
  b.d.resolve("B");
  assertEquals(await race, "B");
  a.d.resolve("A");
  c.d.reject(new Error("c failed late"));
  await sleep(0);
  assertEquals(losers, ["A"]);
});

Deno.test("dial race: aborting rejects with AbortedError and stops further attempts", async () => {
  const log: string[] = [];
  const a = controlled<string>(log, "a");
  const b = controlled<string>(log, "b");
  const losers: string[] = [];
  const ac = new AbortController();
  const race = raceAttempts([a.run, b.run], { stagger: 40, signal: ac.signal, onLoser: (v) => losers.push(v) });
  ac.abort();
  await assertRejects(() => race, AbortedError, "cancelled");
  await sleep(60);
  assertEquals(log, ["a"], "no attempt may start after the abort");
  // a success that arrives after the abort is handed over for closing
  a.d.resolve("A");
  await sleep(0);
  assertEquals(losers, ["A"]);
});

Deno.test("dial race: an already-aborted signal rejects without starting any attempt", async () => {
  const log: string[] = [];
  const a = controlled<string>(log, "a");
  const ac = new AbortController();
  ac.abort();
  await assertRejects(() => raceAttempts([a.run], { stagger: 10, signal: ac.signal }), AbortedError);
  assertEquals(log, []);
});

Deno.test("dial race: aborting after the winner has no effect", async () => {
  const ac = new AbortController();
  const value = await raceAttempts([() => Promise.resolve(1)], { stagger: 10, signal: ac.signal });
  ac.abort();
  assertEquals(value, 1);
});
