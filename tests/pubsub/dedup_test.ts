/** Per-publisher-session ordering and duplicate suppression. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import { SequenceGuard } from "../../src/pubsub/dedup.ts";

Deno.test("in-order sequences are accepted; duplicates and older ones are rejected", () => {
  const g = new SequenceGuard();
  for (let s = 1; s <= 100; s++) assert(g.accept("o", 1, s), `seq ${s}`);
  assert(!g.accept("o", 1, 100), "duplicate of the last");
  assert(!g.accept("o", 1, 50), "older");
  assert(!g.accept("o", 1, 0));
  assert(!g.accept("o", 1, -1));
  assert(g.accept("o", 1, 101));
});

Deno.test("gaps are allowed; late copies behind a gap are dropped", () => {
  const g = new SequenceGuard();
  assert(g.accept("o", 1, 1));
  assert(g.accept("o", 1, 5), "a gap (lost messages) does not block newer ones");
  assert(!g.accept("o", 1, 3), "3 arrived after 5: late, dropped to keep publish order");
  assert(!g.accept("o", 1, 4));
  assert(g.accept("o", 1, 6));
  // The first message seen from a session may have any sequence.
  assert(g.accept("p", 9, 1_000_000));
  assert(g.accept("q", 9, 0));
});

Deno.test("(origin, epoch) pairs are independent", () => {
  const g = new SequenceGuard();
  assert(g.accept("a", 1, 10));
  assert(g.accept("a", 2, 1), "a new epoch (publisher restarted) starts over");
  assert(g.accept("b", 1, 1), "another origin");
  assert(!g.accept("a", 1, 10));
  assert(!g.accept("a", 2, 1));
  assert(!g.accept("b", 1, 1));
  assert(g.accept("a", 1, 11));
  assert(g.accept("a", 2, 2));
  // Origins are hex node ids in practice; epochs are numbers, so "origin:epoch" keys are unique.
  assert(g.accept("ab", 12, 5));
  assert(g.accept("ab", 1, 5), "epoch 1 is not epoch 12");
});

Deno.test("random duplicated and reordered delivery yields each message once, in increasing order", () => {
  const r = rng(3);
  const g = new SequenceGuard();
  const delivered = new Map<string, number[]>();
  const stream: Array<[string, number]> = [];
  for (const origin of ["a", "b", "c"]) {
    for (let s = 1; s <= 200; s++) {
      stream.push([origin, s]);
      if (r() < 0.3) stream.push([origin, s]); // duplicate
    }
  }
  // Local shuffles only (messages may overtake neighbours).
  for (let i = 0; i < stream.length - 1; i++) {
    if (r() < 0.2) [stream[i], stream[i + 1]] = [stream[i + 1], stream[i]];
  }
  for (const [o, s] of stream) {
    if (g.accept(o, 1, s)) delivered.set(o, [...(delivered.get(o) ?? []), s]);
  }
  for (const [o, seqs] of delivered) {
    for (let i = 1; i < seqs.length; i++) assert(seqs[i] > seqs[i - 1], `${o}: out of order`);
    assertEquals(new Set(seqs).size, seqs.length, `${o}: duplicate delivered`);
    assert(seqs.length > 150, `${o}: most messages get through (${seqs.length})`);
  }
});

Deno.test("bounded memory: past the bound, the session seen first is forgotten", () => {
  const g = new SequenceGuard(3);
  assert(g.accept("a", 1, 5));
  assert(g.accept("b", 1, 5));
  assert(g.accept("c", 1, 5));
  // Updates of known sessions never evict anything.
  for (let s = 6; s < 50; s++) assert(g.accept("b", 1, s));
  assert(!g.accept("a", 1, 5), "a is still remembered");
  assert(!g.accept("c", 1, 5), "c is still remembered");
  assert(g.accept("d", 1, 5), "a fourth session is accepted");
  // Exactly one of the first three was forgotten, and it is the one seen first (a).
  assert(!g.accept("d", 1, 5), "the newest session is remembered");
  assert(!g.accept("b", 1, 49), "b is remembered");
  assert(!g.accept("c", 1, 5), "c is remembered");
  assert(g.accept("a", 1, 5), "a was forgotten, so its old sequence passes again");
  // Re-admitting a evicted the then first-seen session (b); c and d stay.
  assert(!g.accept("c", 1, 5));
  assert(!g.accept("d", 1, 5));
  assert(g.accept("b", 1, 1), "b was forgotten");
});

Deno.test("bounded memory: never more sessions remembered than the bound", () => {
  for (const max of [1, 2, 10, 100]) {
    const fresh = new SequenceGuard(max);
    for (let i = 0; i < max * 3; i++) assert(fresh.accept(`o${i}`, 1, 7));
    // The last `max` sessions are the ones remembered.
    for (let i = max * 2; i < max * 3; i++) assert(!fresh.accept(`o${i}`, 1, 7), `max ${max}: o${i} forgotten`);
    // …and the one just before them is forgotten (probing re-admits it, so probe just one).
    assert(fresh.accept(`o${max * 2 - 1}`, 1, 7), `max ${max}: o${max * 2 - 1} should have been forgotten`);
  }
});

Deno.test("the default bound is 4096 sessions", () => {
  const g = new SequenceGuard();
  for (let i = 0; i < 4096; i++) g.accept(`o${i}`, 1, 10);
  assert(!g.accept("o0", 1, 10), "all 4096 remembered");
  g.accept("new", 1, 1);
  assert(g.accept("o0", 1, 10), "the session seen first was forgotten");
});
