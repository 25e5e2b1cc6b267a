/**
 * SWIM over an in-process lossy network: join, failure detection, no false
 * positives under loss or a short freeze, refutation, graceful leave,
 * partitions healing, and secret isolation.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { suspicionFloor } from "../../src/cluster/options.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { createNodeRecord } from "../../src/identity/node-record.ts";
import { parseEndpoint } from "../../src/cluster/endpoint.ts";
import { sealEnvelope } from "../../src/cluster/envelope.ts";
import { createAliveToken, encodeMessage } from "../../src/cluster/messages.ts";
import { MAX_MEMBERS } from "../../src/cluster/swim/swim.ts";
import { FAST, SimNet } from "./sim.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";

async function cluster(n: number, options: { secret?: string } = {}): Promise<SimNet> {
  const net = new SimNet();
  for (let i = 0; i < n; i++) net.add(options);
  for (const node of net.nodes) node.swim.start();
  net.announceAll();
  await until(() => net.converged(), 5000, "convergence");
  return net;
}

Deno.test("swim sim: 10 nodes converge from one round of announcements", async () => {
  const net = await cluster(10);
  try {
    for (const node of net.nodes) {
      assertEquals(node.swim.members.live().length, 9);
      assertEquals(node.events.filter((e) => e.type === "up").length, 9);
    }
  } finally {
    await net.stop();
  }
});

Deno.test("swim sim: a crashed node is marked down by everyone, and only that node", async () => {
  const net = await cluster(8);
  try {
    const victim = net.nodes[3];
    const t0 = Date.now();
    net.down.add(victim.endpoint);
    const others = net.nodes.filter((n) => n !== victim);
    await until(() => others.every((n) => net.sees(n, victim, "dead")), 5000, "everyone marks the victim dead");
    const took = Date.now() - t0;
    const floor = suspicionFloor(8, { ...FAST, suspicionMult: 4 } as never);
    console.log(`  crash detected by all 7 in ${took} ms (suspicion floor ${floor} ms)`);
    for (const n of others) {
      assertEquals(n.events.filter((e) => e.type === "down").map((e) => e.id.hex), [victim.swim.id.hex]);
    }
    assert(net.converged([victim]));
  } finally {
    await net.stop();
  }
});

Deno.test("swim sim: a node cut off for less than the suspicion floor is never marked down", async () => {
  const net = await cluster(8);
  try {
    const frozen = net.nodes[2];
    net.down.add(frozen.endpoint);
    await new Promise((r) => setTimeout(r, 250)); // floor is 400 ms at n = 8 with these timings
    net.down.delete(frozen.endpoint);
    await new Promise((r) => setTimeout(r, 2000));
    for (const n of net.nodes) assertEquals(n.events.filter((e) => e.type === "down").length, 0);
    assert(net.converged());
  } finally {
    await net.stop();
  }
});

Deno.test("swim sim: 10 % loss on every datagram causes no false downs", async () => {
  const net = await cluster(10);
  try {
    net.loss = 0.1;
    await new Promise((r) => setTimeout(r, 6000)); // ~600 probe rounds
    const suspects = net.nodes.reduce((s, n) => s + n.events.filter((e) => e.type === "suspect").length, 0);
    const downs = net.nodes.reduce((s, n) => s + n.events.filter((e) => e.type === "down").length, 0);
    console.log(`  10 % loss, 6 s: ${suspects} suspicions, ${downs} downs`);
    assertEquals(downs, 0);
  } finally {
    await net.stop();
  }
});

Deno.test("swim sim: a wrongly suspected node refutes with a higher incarnation", async () => {
  const net = await cluster(5);
  try {
    const [a, b] = net.nodes;
    const inc = b.swim.incarnation;
    // a suspects b although b is fine (and tells nobody): b's next datagram to a gets it corrected
    a.swim.members.suspect(b.swim.id, inc, a.swim.id);
    await until(() => b.swim.incarnation > inc || net.sees(a, b, "alive"), 3000, "refutation");
    await until(() => net.converged(), 3000, "reconvergence");
    assertEquals(net.nodes.flatMap((n) => n.events.filter((e) => e.type === "down")).length, 0);
  } finally {
    await net.stop();
  }
});

Deno.test("swim sim: a graceful stop is seen as left, at once", async () => {
  const net = await cluster(5);
  try {
    const leaver = net.nodes[4];
    await leaver.swim.stop();
    const others = net.nodes.slice(0, 4);
    await until(() => others.every((n) => net.sees(n, leaver, "left")), 1000, "everyone sees it left");
  } finally {
    await net.stop();
  }
});

Deno.test("swim sim: a partition heals once it is lifted", async () => {
  const net = await cluster(6);
  try {
    const [left, right] = [net.nodes.slice(0, 3), net.nodes.slice(3)];
    for (const a of left) for (const b of right) net.cut.add(`${a.endpoint}|${b.endpoint}`);
    await until(
      () => left.every((a) => right.every((b) => net.sees(a, b, "dead"))),
      5000,
      "each side sees the other dead",
    );
    net.cut.clear();
    net.announceAll(); // the next round of multicast announcements
    await until(() => net.converged(), 5000, "convergence after the partition").catch((e) => {
      for (const a of net.nodes) {
        console.log(
          a.endpoint,
          a.swim.incarnation,
          a.swim.members.all().map((m) => `${m.addr}:${m.state}@${m.incarnation}`),
        );
      }
      throw e;
    });
  } finally {
    await net.stop();
  }
});

Deno.test("swim sim: nodes with another secret or none never join a secret cluster", async () => {
  const net = new SimNet();
  const members = [net.add({ secret: "right-secret" }), net.add({ secret: "right-secret" })];
  const wrong = net.add({ secret: "wrong-secret" });
  const open = net.add();
  for (const n of net.nodes) n.swim.start();
  try {
    net.announceAll();
    await until(() => net.sees(members[0], members[1], "alive"), 2000, "the secret members join");
    await new Promise((r) => setTimeout(r, 500));
    for (const m of members) {
      assertEquals(m.swim.members.size, 1);
      assert(m.swim.metrics.dropped.get({ reason: "bad_mac" }) >= 1);
      assert(m.swim.metrics.dropped.get({ reason: "missing_mac" }) >= 1);
    }
    assertEquals(wrong.swim.members.size, 0);
    assertEquals(open.swim.members.size, 0);
    assert(open.swim.metrics.dropped.get({ reason: "unexpected_mac" }) >= 1);
  } finally {
    await net.stop();
  }
});

Deno.test("swim: the member table is bounded; announcements beyond it are dropped as `limit`", async () => {
  const net = new SimNet();
  const node = net.add();
  node.swim.start();
  try {
    for (let i = 0; i < MAX_MEMBERS + 6; i++) {
      const kp = KeyPair.generate();
      const endpoint = `10.9.${i >> 8}.${i & 255}:7946`;
      const record = createNodeRecord(kp, { addrs: [], realms: ["default"] });
      const body = encodeMessage({
        type: "announce",
        record,
        token: createAliveToken(signerOf(kp), 0, [endpoint]),
        reply: false,
      });
      node.swim.receive(sealEnvelope(signerOf(kp), body), parseEndpoint(endpoint)!);
    }
    assertEquals(node.swim.members.size, MAX_MEMBERS);
    assertEquals(node.swim.metrics.dropped.get({ reason: "limit" }), 6);
  } finally {
    await net.stop();
  }
});
