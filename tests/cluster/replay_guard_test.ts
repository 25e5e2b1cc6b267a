/** The per-sender replay guard: windows, epochs, bounds, and that one sender cannot hurt another. */
import { assertEquals } from "../helpers/assert.ts";
import { ReplayGuard } from "../../src/cluster/replay-guard.ts";

function accept(guard: ReplayGuard, sender: string, epoch: string, counter: number): string {
  const verdict = guard.check(sender, epoch, counter);
  if (verdict === "ok") guard.accept(sender, epoch, counter);
  return verdict;
}

Deno.test("replay guard: each counter once, reordering within the window, older ones refused", () => {
  const guard = new ReplayGuard({ window: 8 });
  for (const c of [1, 3, 2, 10]) assertEquals(accept(guard, "s", "e", c), "ok");
  for (const c of [1, 2, 3, 10]) assertEquals(guard.check("s", "e", c), "replay");
  assertEquals(accept(guard, "s", "e", 4), "ok", "late but inside the window (10 - 4 < 8)");
  assertEquals(guard.check("s", "e", 2), "replay", "10 - 2 = 8 is outside the window");
  assertEquals(accept(guard, "s", "e", 1_000_000), "ok", "a jump forward");
  assertEquals(guard.check("s", "e", 10), "replay");
  assertEquals(guard.check("t", "e", 10), "ok", "state is per sender");
});

Deno.test("replay guard: a restart (new epoch) is accepted; replaced epochs are refused as stale", () => {
  const guard = new ReplayGuard({ epochs: 2, retired: 4 });
  accept(guard, "s", "boot1", 50);
  assertEquals(accept(guard, "s", "boot2", 1), "ok", "restart");
  assertEquals(accept(guard, "s", "boot1", 51), "ok", "the previous boot is still live (late datagrams)");
  assertEquals(accept(guard, "s", "boot2", 2), "ok");
  assertEquals(accept(guard, "s", "boot3", 1), "ok", "a second restart");
  // boot1 was the least recently used of the two: it is retired, boot2 (used after it) stays live
  assertEquals(guard.check("s", "boot1", 52), "stale");
  assertEquals(guard.check("s", "boot2", 3), "ok");
});

Deno.test("replay guard: a flood from one sender (new epochs, huge counters) never touches another's state", () => {
  const guard = new ReplayGuard({ capacity: 64 });
  for (let c = 1; c <= 100; c++) accept(guard, "honest", "h", c);
  for (let i = 0; i < 10_000; i++) accept(guard, "flooder", `e${i}`, Number.MAX_SAFE_INTEGER - i);
  for (let c = 1; c <= 100; c++) assertEquals(guard.check("honest", "h", c), "replay", `counter ${c}`);
  assertEquals(guard.check("honest", "h", 101), "ok");
  assertEquals(guard.size, 2);
});

Deno.test("replay guard: many new senders evict only unpinned strangers, never members", () => {
  const members = new Set(["m1", "m2"]);
  const guard = new ReplayGuard({ capacity: 16, isPinned: (s) => members.has(s) });
  accept(guard, "m1", "a", 7);
  accept(guard, "m2", "b", 9);
  for (let i = 0; i < 1000; i++) accept(guard, `stranger${i}`, "x", 1);
  assertEquals(guard.size, 16);
  assertEquals(guard.check("m1", "a", 7), "replay", "a member's state survived the flood");
  assertEquals(guard.check("m2", "b", 9), "replay");
  assertEquals(guard.check("stranger0", "x", 1), "ok", "the oldest strangers were forgotten");
  assertEquals(guard.check("stranger999", "x", 1), "replay");
});
