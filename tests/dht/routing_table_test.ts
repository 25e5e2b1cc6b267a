/**
 * The Kademlia routing table: membership, bucket capacity, ping-before-evict
 * with a replacement cache, closest(), and bucket refresh bookkeeping.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { commonPrefixLength, compareDistance, dhtId, KEY_BITS } from "../../src/dht/keys.ts";
import { type Contact, RoutingTable } from "../../src/dht/routing-table.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { type Deferred, deferred } from "../../src/util/async.ts";

function randomId(): NodeId {
  return new NodeId(crypto.getRandomValues(new Uint8Array(32)));
}

/** A node id whose DHT id falls into bucket `b` of `self` (brute force; fine for small b). */
function idInBucket(selfKey: Uint8Array, b: number): NodeId {
  while (true) {
    const id = randomId();
    if (commonPrefixLength(selfKey, dhtId(id)) === b) return id;
  }
}

function idsInBucket(selfKey: Uint8Array, b: number, n: number): NodeId[] {
  return Array.from({ length: n }, () => idInBucket(selfKey, b));
}

/** A ping whose answers the test decides, one call at a time. */
class ControlledPing {
  calls: Array<{ contact: Contact; reply: Deferred<boolean> }> = [];
  ping = (contact: Contact): Promise<boolean> => {
    const reply = deferred<boolean>();
    this.calls.push({ contact, reply });
    return reply.promise;
  };
  /** Answer the ping at `index` and let the table process it. */
  async answer(index: number, alive: boolean | Error): Promise<void> {
    const call = this.calls[index];
    if (alive instanceof Error) call.reply.reject(alive);
    else call.reply.resolve(alive);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("add/has/remove/size/contacts", () => {
  const self = randomId();
  const table = new RoutingTable(self, { ping: () => Promise.resolve(true) });
  assertEquals(table.size, 0);
  assertEquals(table.k, 20, "default k");
  assertEquals(table.selfKey, dhtId(self));
  // k ids always fit, whatever buckets they fall in (30 random ones overflowed the farthest bucket ~2 % of runs).
  const ids = Array.from({ length: 20 }, randomId);
  for (const id of ids) assert(table.add(id), "room for k ids");
  assertEquals(table.size, 20);
  for (const id of ids) assert(table.has(id));
  assert(table.has(new NodeId(ids[0].bytes)), "membership is by key, not object identity");
  assert(!table.has(randomId()));
  assertEquals(new Set(table.contacts().map((c) => c.id.hex)), new Set(ids.map((i) => i.hex)));
  for (const c of table.contacts()) assertEquals(c.key, dhtId(c.id));

  // Adding again refreshes, does not duplicate.
  assert(table.add(ids[3]));
  assertEquals(table.size, 20);

  table.remove(ids[0]);
  table.remove(ids[0]); // twice is harmless
  table.remove(randomId()); // unknown is harmless
  assertEquals(table.size, 19);
  assert(!table.has(ids[0]));
  assert(table.add(ids[0]), "a removed contact can come back");
  assertEquals(table.size, 20);
});

Deno.test("add refreshes lastSeen of a known contact", async () => {
  const table = new RoutingTable(randomId(), { ping: () => Promise.resolve(true) });
  const id = randomId();
  table.add(id);
  const before = table.contacts()[0].lastSeen;
  await new Promise((r) => setTimeout(r, 5));
  table.add(id);
  assert(table.contacts()[0].lastSeen > before);
});

Deno.test("never adds itself", () => {
  const self = randomId();
  const table = new RoutingTable(self, { ping: () => Promise.resolve(true) });
  assertEquals(table.add(self), false);
  assertEquals(table.add(new NodeId(self.bytes)), false);
  assertEquals(table.size, 0);
  assert(!table.has(self));
});

Deno.test("a bucket holds at most k contacts; newcomers wait and trigger a ping", () => {
  const self = randomId();
  const pinger = new ControlledPing();
  const table = new RoutingTable(self, { k: 4, ping: pinger.ping });
  const ids = idsInBucket(table.selfKey, 0, 4);
  for (const id of ids) assert(table.add(id));
  assertEquals(pinger.calls.length, 0, "no ping while the bucket has room");
  const newcomer = idInBucket(table.selfKey, 0);
  assertEquals(table.add(newcomer), false, "the bucket is full");
  assert(!table.has(newcomer));
  assertEquals(table.size, 4);
  assertEquals(pinger.calls.length, 1);
  assert(pinger.calls[0].contact.id.equals(ids[0]), "the least recently seen contact is pinged");
  // Other buckets are unaffected.
  const other = idInBucket(table.selfKey, 1);
  assert(table.add(other));
  assertEquals(table.size, 5);
});

Deno.test("default k is 20 per bucket", () => {
  const table = new RoutingTable(randomId(), { ping: () => new Promise(() => {}) });
  const ids = idsInBucket(table.selfKey, 0, 25);
  const added = ids.map((id) => table.add(id));
  assertEquals(added.filter(Boolean).length, 20);
  assertEquals(added.slice(0, 20), Array(20).fill(true));
  assertEquals(table.size, 20);
});

Deno.test("ping-before-evict: an alive oldest contact stays (moved to the tail); the newcomer waits", async () => {
  const pinger = new ControlledPing();
  const table = new RoutingTable(randomId(), { k: 3, ping: pinger.ping });
  const [a, b, c] = idsInBucket(table.selfKey, 0, 3);
  for (const id of [a, b, c]) table.add(id);
  const n1 = idInBucket(table.selfKey, 0);
  assertEquals(table.add(n1), false);
  assert(pinger.calls[0].contact.id.equals(a));
  const seenBefore = pinger.calls[0].contact.lastSeen;
  await new Promise((r) => setTimeout(r, 3));
  await pinger.answer(0, true);
  assert(table.has(a), "alive contact stays");
  assert(!table.has(n1), "newcomer still waits");
  assertEquals(table.size, 3);
  assert(table.contacts().find((x) => x.id.equals(a))!.lastSeen > seenBefore, "lastSeen refreshed");

  // a moved to the tail: the next full-bucket add pings b, the new least recently seen.
  const n2 = idInBucket(table.selfKey, 0);
  assertEquals(table.add(n2), false);
  assertEquals(pinger.calls.length, 2);
  assert(pinger.calls[1].contact.id.equals(b), "b is now the oldest");
  await pinger.answer(1, true);
  const n3 = idInBucket(table.selfKey, 0);
  table.add(n3);
  assert(pinger.calls[2].contact.id.equals(c), "then c");
  await pinger.answer(2, true);
  const n4 = idInBucket(table.selfKey, 0);
  table.add(n4);
  assert(pinger.calls[3].contact.id.equals(a), "and a again");
  await pinger.answer(3, true);
  assertEquals(new Set(table.contacts().map((x) => x.id.hex)), new Set([a.hex, b.hex, c.hex]));
});

Deno.test("add() of a known contact moves it to the tail (it is pinged last)", async () => {
  const pinger = new ControlledPing();
  const table = new RoutingTable(randomId(), { k: 3, ping: pinger.ping });
  const [a, b, c] = idsInBucket(table.selfKey, 0, 3);
  for (const id of [a, b, c]) table.add(id);
  assert(table.add(a), "a known contact is (still) in the table");
  table.add(idInBucket(table.selfKey, 0));
  assert(pinger.calls[0].contact.id.equals(b), "b is the least recently seen after a was refreshed");
  await pinger.answer(0, true);
});

Deno.test("ping-before-evict: a dead oldest contact is evicted and a replacement takes its place", async () => {
  const pinger = new ControlledPing();
  const table = new RoutingTable(randomId(), { k: 3, ping: pinger.ping });
  const [a, b, c] = idsInBucket(table.selfKey, 0, 3);
  for (const id of [a, b, c]) table.add(id);
  const n1 = idInBucket(table.selfKey, 0);
  table.add(n1);
  await pinger.answer(0, false);
  assert(!table.has(a), "dead contact evicted");
  assert(table.has(n1), "the newcomer took its place");
  assertEquals(table.size, 3);

  // A ping that throws counts as dead too.
  const n2 = idInBucket(table.selfKey, 0);
  table.add(n2);
  assert(pinger.calls[1].contact.id.equals(b));
  await pinger.answer(1, new Error("unreachable"));
  assert(!table.has(b));
  assert(table.has(n2));
  assertEquals(table.size, 3);
});

Deno.test("only one ping per bucket at a time; buckets ping independently", async () => {
  const pinger = new ControlledPing();
  const table = new RoutingTable(randomId(), { k: 2, ping: pinger.ping });
  const bucket0 = idsInBucket(table.selfKey, 0, 2);
  const bucket1 = idsInBucket(table.selfKey, 1, 2);
  for (const id of [...bucket0, ...bucket1]) table.add(id);
  const waiting0 = idsInBucket(table.selfKey, 0, 5);
  for (const id of waiting0) assertEquals(table.add(id), false);
  assertEquals(pinger.calls.length, 1, "five newcomers, one ping");
  table.add(idInBucket(table.selfKey, 1));
  assertEquals(pinger.calls.length, 2, "bucket 1 pings on its own");
  assert(pinger.calls[1].contact.id.equals(bucket1[0]));
  table.add(idInBucket(table.selfKey, 1));
  assertEquals(pinger.calls.length, 2);

  await pinger.answer(0, false);
  // The most recent newcomer of bucket 0 replaced the dead contact.
  assert(!table.has(bucket0[0]));
  assert(table.has(waiting0[4]));
  assertEquals(table.size, 4);
  // Once answered, the next newcomer may trigger a new ping.
  table.add(idInBucket(table.selfKey, 0));
  assertEquals(pinger.calls.length, 3);
  assert(pinger.calls[2].contact.id.equals(bucket0[1]));
  await pinger.answer(1, true);
  await pinger.answer(2, true);
});

Deno.test("remove() promotes the most recent replacement; the replacement cache is bounded by k", () => {
  const table = new RoutingTable(randomId(), { k: 3, ping: () => new Promise(() => {}) });
  const members = idsInBucket(table.selfKey, 0, 3);
  for (const id of members) table.add(id);
  const waiting = idsInBucket(table.selfKey, 0, 5);
  for (const id of waiting) assertEquals(table.add(id), false);
  assertEquals(table.size, 3);

  table.remove(members[1]);
  assertEquals(table.size, 3, "a replacement filled the slot");
  assert(table.has(waiting[4]), "the most recently seen replacement first");
  table.remove(members[0]);
  assert(table.has(waiting[3]));
  table.remove(members[2]);
  assert(table.has(waiting[2]));
  assertEquals(table.size, 3);
  // Only k = 3 replacements were kept: waiting[0] and waiting[1] were pushed out.
  table.remove(waiting[4]);
  assertEquals(table.size, 2, "replacement cache is empty now");
  assert(!table.has(waiting[0]) && !table.has(waiting[1]));
});

Deno.test("a newcomer seen twice waits once in the replacement cache", () => {
  const table = new RoutingTable(randomId(), { k: 2, ping: () => new Promise(() => {}) });
  const members = idsInBucket(table.selfKey, 0, 2);
  for (const id of members) table.add(id);
  const [x, y] = idsInBucket(table.selfKey, 0, 2);
  table.add(x);
  table.add(y);
  table.add(x); // x is now the most recent, and not duplicated
  table.remove(members[0]);
  assert(table.has(x));
  table.remove(members[1]);
  assert(table.has(y));
  table.remove(x);
  assertEquals(table.size, 1, "no second copy of x was waiting");
});

Deno.test("a contact removed while its ping is in flight is not resurrected by the answer", async () => {
  const pinger = new ControlledPing();
  const table = new RoutingTable(randomId(), { k: 2, ping: pinger.ping });
  const [a, b] = idsInBucket(table.selfKey, 0, 2);
  table.add(a);
  table.add(b);
  const n = idInBucket(table.selfKey, 0);
  table.add(n);
  table.remove(a); // e.g. a request to it failed meanwhile; n replaces it
  assert(table.has(n));
  await pinger.answer(0, true);
  assert(!table.has(a));
  assertEquals(table.size, 2);
  assert(table.has(b) && table.has(n));
});

// Regression test for a bookkeeping bug: a contact that is removed and added
// again while a ping of its old entry is in flight. The ping answer handler
// finds the id in the index (the *new* entry), then splices
// `indexOf(oldEntry)` = -1 out of the bucket (removing the bucket's last
// contact) and pushes the stale entry back. Index and bucket disagree from
// then on, and ping-before-evict later pings a node that is not in the table.
Deno.test("ping-before-evict only ever pings contacts that are in the table (remove + re-add during a ping)", async () => {
  const pinger = new ControlledPing();
  const table = new RoutingTable(randomId(), { k: 2, ping: pinger.ping });
  const [o, c] = idsInBucket(table.selfKey, 0, 2);
  table.add(o);
  table.add(c);
  const n = idInBucket(table.selfKey, 0);
  table.add(n); // full: n waits, o is pinged
  assert(pinger.calls[0].contact.id.equals(o));
  table.remove(c); // n promoted; replacement cache now empty
  table.remove(o); // bucket has room again
  assert(table.add(o), "o contacts us again and is re-added");
  await pinger.answer(0, true); // the old ping of o answers
  table.add(n); // n seen again
  table.remove(o); // o fails again
  assert(!table.has(o));
  assert(table.has(n));
  assertEquals(table.size, 1);
  const p = idInBucket(table.selfKey, 0);
  assert(table.add(p), "one free slot");
  assertEquals(table.size, 2);
  table.add(idInBucket(table.selfKey, 0)); // full again: the oldest *table member* must be pinged
  assertEquals(pinger.calls.length, 2);
  const pinged = pinger.calls[1].contact;
  assert(
    table.has(pinged.id),
    `pinged ${pinged.id.short}, which is not in the table (members: ${
      table.contacts().map((x) => x.id.short).join(", ")
    })`,
  );
  await pinger.answer(1, true);
});

Deno.test("closest() returns the n closest contacts in distance order, with exclusion", () => {
  const self = randomId();
  const table = new RoutingTable(self, { ping: () => Promise.resolve(true) });
  const ids = Array.from({ length: 60 }, randomId);
  for (const id of ids) table.add(id);
  const all = table.contacts();
  for (let round = 0; round < 10; round++) {
    const target = crypto.getRandomValues(new Uint8Array(32));
    const expected = [...all].sort((x, y) => compareDistance(target, x.key, y.key));
    const got = table.closest(target, 10);
    assertEquals(got.map((c) => c.id.hex), expected.slice(0, 10).map((c) => c.id.hex));
    assertEquals(table.closest(target).length, 20, "default n = k");
    assertEquals(table.closest(target, 1000).length, table.size);
    assertEquals(table.closest(target, 0), []);
    const excluded = new Set(expected.slice(0, 5).map((c) => c.id.hex));
    const filtered = table.closest(target, 10, (c) => excluded.has(c.id.hex));
    assertEquals(filtered.map((c) => c.id.hex), expected.slice(5, 15).map((c) => c.id.hex));
  }
  // A contact's own key is closest to itself.
  assert(table.closest(all[7].key, 1)[0].id.equals(all[7].id));
  // An empty table.
  assertEquals(new RoutingTable(randomId(), { ping: () => Promise.resolve(true) }).closest(self.bytes, 5), []);
});

Deno.test("staleBuckets/touch: buckets up to the deepest non-empty one, untouched since the cutoff", async () => {
  const table = new RoutingTable(randomId(), { ping: () => Promise.resolve(true) });
  assertEquals(table.staleBuckets(Date.now() + 60_000), [], "an empty table has nothing to refresh");
  table.add(idInBucket(table.selfKey, 0));
  table.add(idInBucket(table.selfKey, 3));
  const future = Date.now() + 60_000;
  assertEquals(table.staleBuckets(future), [0, 1, 2, 3], "up to the deepest non-empty bucket");
  assertEquals(table.staleBuckets(0), [], "nothing is older than the epoch");

  await new Promise((r) => setTimeout(r, 3));
  const cutoff = Date.now();
  await new Promise((r) => setTimeout(r, 3));
  table.touch(1);
  table.touch(2);
  assertEquals(table.staleBuckets(cutoff), [0, 3]);
  await new Promise((r) => setTimeout(r, 3));
  // Adding a contact touches its bucket.
  table.add(idInBucket(table.selfKey, 0));
  assertEquals(table.staleBuckets(cutoff), [3]);
  table.touch(KEY_BITS - 1); // touching a far bucket never makes it "deepest"
  assertEquals(table.staleBuckets(future).length, 4);
  await tick();
});
