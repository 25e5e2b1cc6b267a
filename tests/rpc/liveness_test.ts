import { assert, assertEquals } from "../helpers/assert.ts";
import { overdueAfter, watchAttempt } from "../../src/rpc/liveness.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("liveness: the overdue time follows the RTT above a floor", () => {
  assertEquals(overdueAfter(undefined), 500);
  assertEquals(overdueAfter(1), 150);
  assertEquals(overdueAfter(40), 320);
  assertEquals(overdueAfter(40, 100, 4), 160);
});

Deno.test("liveness: an unanswered ping gives the attempt up within two periods; an answered one never", async () => {
  const dead: string[] = [];
  const started = Date.now();
  let deadAt = 0;
  const stopDead = watchAttempt({
    rtt: 5,
    floor: 50,
    ping: (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    onDead: (why) => {
      dead.push(why);
      deadAt = Date.now() - started;
    },
  });
  let pings = 0;
  const stopLive = watchAttempt({
    rtt: 5,
    floor: 50,
    ping: () => (pings++, Promise.resolve(5)),
    onDead: () => assert(false, "a live provider is never given up"),
  });
  await sleep(400);
  stopDead();
  stopLive();
  assertEquals(dead.length, 1);
  assert(dead[0].includes("no answer to a liveness ping"), dead[0]);
  assert(deadAt >= 95 && deadAt < 300, `given up after ${deadAt} ms`);
  assert(pings >= 3, `a slow attempt on a live link is probed each period (${pings} pings)`);
  const after = pings;
  await sleep(120);
  assertEquals(pings, after, "stopped watches do not ping");
});
