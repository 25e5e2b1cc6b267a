/**
 * Property test of convergence: 5 replicas, random writes and deletes,
 * random partitions, lossy gossip inside each side, anti-entropy, re-merges;
 * seeded. After every heal every replica is equal (entries and vectors).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decodeStateMessage, encodeStateMessage } from "../../src/state/messages.ts";
import { type Entry, Replica } from "../../src/state/replica.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (i: number) => i.toString(16).padStart(2, "0").repeat(32);

/** Through the wire format, as a real exchange would. */
function wire(entries: Entry[], vector?: Map<string, number>) {
  const m = decodeStateMessage(encodeStateMessage({ t: "delta", realm: "r", name: "n", entries, vector }));
  if (m.t !== "delta") throw new Error("not a delta");
  return m;
}

function sync(a: Replica, b: Replica): void {
  const toA = wire(b.missing(a.vector()), b.vector());
  a.apply(toA.entries, toA.vector);
  const toB = wire(a.missing(b.vector()), a.vector());
  b.apply(toB.entries, toB.vector);
}

function snapshot(r: Replica) {
  return JSON.stringify({ e: [...r.entries()].sort(([x], [y]) => x < y ? -1 : 1), v: [...r.vector()].sort() });
}

Deno.test("state: 5 replicas converge under random writes, partitions, lossy gossip and re-merges (seeded, 200 rounds)", () => {
  for (const seed of [1, 2, 3]) {
    const rand = rng(seed);
    let clock = 1_000_000;
    // Skewed wall clocks: replica i runs i*37 ms behind or ahead.
    const replicas = Array.from({ length: 5 }, (_, i) => new Replica(hex(i + 1), () => clock + (i - 2) * 37));
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    for (let round = 0; round < 200; round++) {
      // A random partition into 1 to 3 sides.
      const sides = 1 + Math.floor(rand() * 3);
      const side = replicas.map(() => Math.floor(rand() * sides));
      for (let op = 0; op < 6; op++) {
        clock += Math.floor(rand() * 3);
        const i = Math.floor(rand() * 5);
        const r = replicas[i];
        const key = `k${Math.floor(rand() * 8)}`;
        const e = rand() < 0.25 ? r.delete(key) : r.set(key, { v: Math.floor(rand() * 1000), by: i });
        if (!e) continue;
        // Gossip on the same side, each copy lost with probability 0.3.
        for (let j = 0; j < 5; j++) {
          if (j !== i && side[j] === side[i] && rand() > 0.3) replicas[j].apply(wire([e]).entries);
        }
      }
      // Some anti-entropy exchanges inside the sides.
      for (let k = 0; k < 3; k++) {
        const a = pick(replicas), b = pick(replicas);
        if (a !== b && side[replicas.indexOf(a)] === side[replicas.indexOf(b)]) sync(a, b);
      }
      // Every 10th round the partition heals: anti-entropy along a random ring.
      if (round % 10 === 9) {
        const order = [...replicas].sort(() => rand() - 0.5);
        for (let pass = 0; pass < 2; pass++) {
          for (let k = 0; k < order.length; k++) sync(order[k], order[(k + 1) % order.length]);
        }
        const first = snapshot(replicas[0]);
        for (const r of replicas) assertEquals(snapshot(r), first, `seed ${seed} round ${round}`);
        for (const r of replicas) assertEquals(r.missing(replicas[0].vector()).length, 0);
      }
    }
    assert(replicas[0].size > 0);
  }
});

Deno.test("state: merge is commutative, idempotent and a later write after seeing another wins (causal overwrite)", () => {
  let now = 5000;
  const fast = new Replica(hex(1), () => now + 10_000); // clock 10 s ahead
  const slow = new Replica(hex(2), () => now);
  const w1 = fast.set("k", "fast");
  slow.apply([w1]);
  const w2 = slow.set("k", "slow, after seeing fast");
  assertEquals(slow.get("k"), "slow, after seeing fast");
  fast.apply([w2]);
  fast.apply([w1, w2, w1]);
  assertEquals(fast.get("k"), "slow, after seeing fast");
  const x = new Replica(hex(3)), y = new Replica(hex(4));
  x.apply([w2, w1]);
  y.apply([w1, w2]);
  assertEquals(snapshot(x), snapshot(y));
  now++;
});
