/**
 * Iterative lookup on a synthetic 500-peer Kademlia network: each peer knows
 * up to k peers per bucket of its own id space and answers a query with the
 * k closest peers it knows (from a sorted distance list). The query function
 * is the lookup's input; everything else is the real `iterativeLookup`.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import { commonPrefixLength, compareDistance, dhtId, sortByDistance } from "../../src/dht/keys.ts";
import { iterativeLookup, type LookupPeer, type QueryResult } from "../../src/dht/lookup.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { AbortedError } from "../../src/util/async.ts";

const K = 20;
const SIZE = 500;

interface Net {
  peers: LookupPeer[];
  byHex: Map<string, LookupPeer>;
  /** What each peer knows: up to `perBucket` peers of each of its buckets. */
  known: Map<string, LookupPeer[]>;
}

function buildNet(seed: number, size = SIZE, perBucket = K): Net {
  const r = rng(seed);
  const peers: LookupPeer[] = Array.from({ length: size }, () => {
    const id = new NodeId(Uint8Array.from({ length: 32 }, () => Math.floor(r() * 256)));
    return { id, key: dhtId(id) };
  });
  const byHex = new Map(peers.map((p) => [p.id.hex, p]));
  const known = new Map<string, LookupPeer[]>();
  for (const p of peers) {
    const buckets = new Map<number, LookupPeer[]>();
    // A deterministic but arbitrary order per peer, so bucket contents differ between peers.
    const order = sortByDistance(peers[Math.floor(r() * size)].key, peers, (x) => x.key);
    for (const q of order) {
      if (q === p) continue;
      const b = commonPrefixLength(p.key, q.key);
      const list = buckets.get(b) ?? [];
      if (list.length < perBucket) list.push(q);
      buckets.set(b, list);
    }
    known.set(p.id.hex, [...buckets.values()].flat());
  }
  return { peers, byHex, known };
}

/** The answer of `peer`: the k closest peers it knows to `target`. */
function answer(net: Net, peer: LookupPeer, target: Uint8Array, k = K): LookupPeer[] {
  return sortByDistance(target, net.known.get(peer.id.hex)!, (x) => x.key).slice(0, k);
}

/** The true k closest of the whole network (excluding `self`). */
function trueClosest(net: Net, target: Uint8Array, self: NodeId, k = K): LookupPeer[] {
  return sortByDistance(target, net.peers.filter((p) => !p.id.equals(self)), (x) => x.key).slice(0, k);
}

/** Yield a few microtasks, so answers arrive asynchronously and interleave. */
async function later(): Promise<void> {
  for (let i = 0; i < 3; i++) await null;
}

/** Reject after `ms` unless `work` settles first (the query's own deadline). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("query timed out")), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

Deno.test("lookup finds the exact target and the true k closest on a 500-peer network", async () => {
  const net = buildNet(1);
  const r = rng(2);
  for (let i = 0; i < 100; i++) {
    const source = net.peers[Math.floor(r() * SIZE)];
    let target = net.peers[Math.floor(r() * SIZE)];
    if (target === source) target = net.peers[(net.peers.indexOf(source) + 1) % SIZE];
    const queriedPeers: string[] = [];
    const result = await iterativeLookup({
      target: target.key,
      self: source.id,
      seeds: answer(net, source, target.key),
      query: async (peer) => {
        queriedPeers.push(peer.id.hex);
        await later();
        return { peers: answer(net, peer, target.key) };
      },
    });
    assert(result.closest[0].id.equals(target.id), `lookup ${i}: target not found first`);
    assertEquals(
      result.closest.map((p) => p.id.hex),
      trueClosest(net, target.key, source.id).map((p) => p.id.hex),
      `lookup ${i}: the k closest`,
    );
    assertEquals(result.queried, queriedPeers.length);
    assertEquals(new Set(queriedPeers).size, queriedPeers.length, "no peer is queried twice");
    assertEquals(result.failed, 0);
    assert(result.hops >= 1 && result.hops <= result.queried);
    assert(result.queried < SIZE / 2, `lookup ${i} queried ${result.queried} peers: not logarithmic`);
  }
});

Deno.test("lookup for a random key (not a node) returns the true k closest, sorted", async () => {
  const net = buildNet(3);
  const source = net.peers[0];
  for (let i = 0; i < 20; i++) {
    const target = crypto.getRandomValues(new Uint8Array(32));
    const result = await iterativeLookup({
      target,
      self: source.id,
      seeds: answer(net, source, target).slice(0, 3),
      query: (peer) => Promise.resolve({ peers: answer(net, peer, target) }),
      k: 8,
    });
    assertEquals(result.closest.length, 8);
    assertEquals(
      result.closest.map((p) => p.id.hex),
      trueClosest(net, target, source.id, 8).map((p) => p.id.hex),
    );
    for (let j = 1; j < result.closest.length; j++) {
      assert(compareDistance(target, result.closest[j - 1].key, result.closest[j].key) < 0);
    }
  }
});

Deno.test("at most α queries are in flight, and α are used", async () => {
  const net = buildNet(4);
  for (const alpha of [1, 3, 5]) {
    let inFlight = 0;
    let maxInFlight = 0;
    const target = net.peers[123];
    const result = await iterativeLookup({
      target: target.key,
      self: net.peers[0].id,
      seeds: answer(net, net.peers[0], target.key),
      alpha,
      query: async (peer) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 1));
          return { peers: answer(net, peer, target.key) };
        } finally {
          inFlight--;
        }
      },
    });
    assert(result.closest[0].id.equals(target.id));
    assertEquals(maxInFlight, alpha, `alpha ${alpha}`);
    assertEquals(inFlight, 0, "nothing left in flight when the lookup resolves");
  }
});

Deno.test("failing and slow peers are routed around", async () => {
  const net = buildNet(5);
  const r = rng(6);
  // 25 % of the peers are dead (throw), 10 % never answer; the query gives up after 20 ms.
  const dead = new Set<string>();
  const slow = new Set<string>();
  for (const p of net.peers) {
    const x = r();
    if (x < 0.25) dead.add(p.id.hex);
    else if (x < 0.35) slow.add(p.id.hex);
  }
  const isUp = (p: LookupPeer) => !dead.has(p.id.hex) && !slow.has(p.id.hex);
  const up = net.peers.filter(isUp);
  let totalFailed = 0;
  for (let i = 0; i < 15; i++) {
    const source = up[Math.floor(r() * up.length)];
    let target = up[Math.floor(r() * up.length)];
    if (target === source) target = up[(up.indexOf(source) + 1) % up.length];
    const failures: LookupPeer[] = [];
    const answers: LookupPeer[] = [];
    const result = await iterativeLookup({
      target: target.key,
      self: source.id,
      seeds: answer(net, source, target.key),
      query: (peer) => {
        const work = (async (): Promise<QueryResult<never>> => {
          await later();
          if (dead.has(peer.id.hex)) throw new Error("connection refused");
          if (slow.has(peer.id.hex)) await new Promise(() => {}); // never answers
          return { peers: answer(net, peer, target.key) };
        })();
        return withTimeout(work, 20);
      },
      onAnswer: (p) => answers.push(p),
      onFailure: (p) => failures.push(p),
    });
    assert(result.closest[0].id.equals(target.id), `lookup ${i}: target not found`);
    for (const p of result.closest) assert(isUp(p), "only peers that answered are returned");
    assertEquals(result.failed, failures.length);
    assertEquals(result.queried, answers.length + failures.length);
    for (const p of failures) assert(!isUp(p), "only dead or slow peers fail");
    for (const p of answers) assert(isUp(p));
    // The nearest half of the result is exactly the nearest live peers (the far end may
    // miss live peers that only dead peers would have named: answers carry only k peers).
    const expected = sortByDistance(target.key, up.filter((p) => !p.id.equals(source.id)), (p) => p.key);
    assertEquals(
      result.closest.slice(0, K / 2).map((p) => p.id.hex),
      expected.slice(0, K / 2).map((p) => p.id.hex),
      `lookup ${i}: nearest live peers`,
    );
    // (Fewer than k may come back: near the target every answer names the same k peers, dead ones included.)
    assert(result.closest.length >= K / 2, `lookup ${i}: only ${result.closest.length} live peers found`);
    totalFailed += result.failed;
  }
  assert(totalFailed > 0, "the network did have failures to route around");
});

Deno.test("enoughValues stops the lookup early", async () => {
  const net = buildNet(7);
  const target = net.peers[400];
  // Only the 5 peers closest to the target hold the value.
  const holders = new Set(trueClosest(net, target.key, net.peers[0].id, 5).map((p) => p.id.hex));
  const run = (enoughValues?: number) =>
    iterativeLookup<string>({
      target: target.key,
      self: net.peers[0].id,
      seeds: answer(net, net.peers[0], target.key),
      enoughValues,
      alpha: 1,
      query: async (peer) => {
        await later();
        return {
          peers: answer(net, peer, target.key),
          values: holders.has(peer.id.hex) ? [`value@${peer.id.hex.slice(0, 8)}`] : [],
        };
      },
    });
  const full = await run(0);
  const early = await run(1);
  assertEquals(full.values.length, 5, "a full lookup meets every holder");
  assertEquals(early.values.length, 1);
  assert(early.queried < full.queried, `early ${early.queried} vs full ${full.queried}`);
  const two = await run(2);
  assertEquals(two.values.length, 2);
  assert(two.queried >= early.queried && two.queried <= full.queried);
});

Deno.test("abort rejects with AbortedError (before and during the lookup)", async () => {
  const net = buildNet(8, 100);
  const target = net.peers[50];
  let queries = 0;
  const pre = new AbortController();
  pre.abort();
  await assertRejects(
    () =>
      iterativeLookup({
        target: target.key,
        self: net.peers[0].id,
        seeds: answer(net, net.peers[0], target.key),
        query: () => {
          queries++;
          return Promise.resolve({ peers: [] });
        },
        signal: pre.signal,
      }),
    AbortedError,
  );
  assertEquals(queries, 0, "an aborted lookup sends nothing");

  const during = new AbortController();
  const hanging: Array<() => void> = [];
  const promise = iterativeLookup({
    target: target.key,
    self: net.peers[0].id,
    seeds: answer(net, net.peers[0], target.key),
    query: () => {
      queries++;
      return new Promise<QueryResult<never>>((resolve) => hanging.push(() => resolve({ peers: [] })));
    },
    signal: during.signal,
  });
  await later();
  assertEquals(queries, 3, "α queries went out");
  during.abort();
  await assertRejects(() => promise, AbortedError);
  // Late answers after the abort are ignored and start nothing new.
  for (const h of hanging) h();
  await later();
  assertEquals(queries, 3);
});

Deno.test("counters: hops, queried and failed are consistent", async () => {
  const net = buildNet(9, 200);
  const source = net.peers[0];
  const target = net.peers[77];
  // The target itself as the only seed: found in one hop.
  const direct = await iterativeLookup({
    target: target.key,
    self: source.id,
    seeds: [target],
    query: (peer) => Promise.resolve({ peers: answer(net, peer, target.key) }),
  });
  assertEquals(direct.hops, 1);
  assert(direct.closest[0].id.equals(target.id));

  // A far seed: more hops, each answer one hop deeper than its asker.
  const far = sortByDistance(target.key, net.peers, (p) => p.key).at(-1)!;
  const depth = new Map<string, number>([[far.id.hex, 1]]);
  const viaFar = await iterativeLookup({
    target: target.key,
    self: source.id,
    seeds: [far],
    query: (peer) => {
      const peers = answer(net, peer, target.key, 3);
      for (const p of peers) if (!depth.has(p.id.hex)) depth.set(p.id.hex, depth.get(peer.id.hex)! + 1);
      return Promise.resolve({ peers });
    },
  });
  assert(viaFar.closest[0].id.equals(target.id));
  assertEquals(viaFar.hops, depth.get(target.id.hex));
  assert(viaFar.hops >= 2, `hops ${viaFar.hops}`);

  // Every other query fails.
  let n = 0;
  const flaky = await iterativeLookup({
    target: target.key,
    self: source.id,
    seeds: answer(net, source, target.key),
    query: (peer): Promise<QueryResult<never>> => {
      n++;
      return n % 2 === 0
        ? Promise.reject(new Error("flaky"))
        : Promise.resolve({ peers: answer(net, peer, target.key) });
    },
  });
  assertEquals(flaky.queried, n);
  assertEquals(flaky.failed, Math.floor(n / 2));
  assert(flaky.closest.length <= n - flaky.failed);

  // No seeds: nothing to do.
  const empty = await iterativeLookup({
    target: target.key,
    self: source.id,
    seeds: [],
    query: () => Promise.reject(new Error("x")),
  });
  assertEquals(empty, { closest: [], values: [], hops: 0, queried: 0, failed: 0 });

  // All seeds fail.
  const allFail = await iterativeLookup({
    target: target.key,
    self: source.id,
    seeds: net.peers.slice(1, 6),
    query: (): Promise<QueryResult<never>> => Promise.reject(new Error("down")),
  });
  assertEquals({ ...allFail, closest: allFail.closest.length }, {
    closest: 0,
    values: [],
    hops: 0,
    queried: 5,
    failed: 5,
  });
});

Deno.test("self is never queried, even when seeded or returned by peers", async () => {
  const net = buildNet(10, 200);
  const self = net.peers[5];
  const target = self; // looking ourselves up, as joining nodes do
  const asked: string[] = [];
  const result = await iterativeLookup({
    target: target.key,
    self: new NodeId(self.id.bytes),
    seeds: [self, ...answer(net, net.peers[6], target.key)],
    query: (peer) => {
      asked.push(peer.id.hex);
      // Every peer also returns `self` itself.
      return Promise.resolve({ peers: [self, ...answer(net, peer, target.key)] });
    },
  });
  assert(!asked.includes(self.id.hex), "self was queried");
  assert(!result.closest.some((p) => p.id.equals(self.id)));
  assertEquals(
    result.closest.map((p) => p.id.hex),
    trueClosest(net, target.key, self.id).map((p) => p.id.hex),
  );
});
