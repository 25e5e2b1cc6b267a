/**
 * Rings under Deno with node-datachannel: three members behind one gateway
 * (they reach each other only through its relay) join a ring, connect
 * pairwise over WebRTC signaled through the mesh, and exchange 1,000
 * messages, none of whose bytes cross the gateway (its relayed byte count
 * does not move); a member leaving is seen as down; send without a WebRTC
 * connection fails with a typed error.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { MemoryNetwork, until } from "../helpers/nodes.ts";
import { releaseRtc, rtcMissing } from "../helpers/webrtc.ts";
import { gatewayNode, memberNode } from "./ring_helpers.ts";
import type { NodeId } from "../../src/identity/node-id.ts";
import { RingError } from "../../src/rings/errors.ts";
import { SnapshotBuilder } from "../../src/console/snapshot.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId as Id } from "../../src/identity/node-id.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: !!rtcMissing };

function relayBytes(node: { metrics: { registry: { find(name: string): { total(): number } | undefined } } }) {
  return node.metrics.registry.find("macula_relay_bytes_total")?.total() ?? 0;
}

Deno.test("rings: three members behind a gateway exchange 1,000 messages over WebRTC only", opts, async () => {
  const network = new MemoryNetwork();
  const gw = await gatewayNode(network);
  const members: Array<Awaited<ReturnType<typeof memberNode>>> = [];
  try {
    for (let i = 0; i < 3; i++) members.push(await memberNode(network, gw));
    const t0 = performance.now();
    const rings = members.map((m) => m.node.rings.join("design-review"));
    await Promise.all(rings.map((r) => r.ready(2, { signal: AbortSignal.timeout(15_000) })));
    const joinMs = performance.now() - t0;
    console.log(`3 members joined (all pairs up over WebRTC) in ${joinMs.toFixed(0)} ms`);
    for (const m of members) {
      for (const other of members) {
        if (other === m) continue;
        const c = m.rtc.connection(other.node.id);
        assert(c, "a WebRTC connection to every other member");
        assertEquals(c.route, "direct");
        // The node uses it too: it replaced the relayed connection.
        await until(() => m.node.connection(other.node.id) === c, 5000, "the node adopts the WebRTC connection");
      }
    }
    const received = members.map(() => new Map<string, number>());
    rings.forEach((r, i) =>
      r.on("message", (from: NodeId, data: Uint8Array) => {
        assertEquals(data.length, 200);
        received[i].set(from.hex, (received[i].get(from.hex) ?? 0) + 1);
      })
    );
    // Let signaling settle (the relayed circuits retire), then count what the gateway relays.
    await new Promise((r) => setTimeout(r, 300));
    const before = relayBytes(gw);
    assert(before > 0, "signaling went through the gateway's relay");
    const payload = new Uint8Array(200).fill(7);
    const PER = 500;
    // member 0 sends 500 to each of the others: 1,000 messages
    const sends = [];
    for (let i = 0; i < PER; i++) {
      sends.push(rings[0].send(members[1].node.id, payload), rings[0].send(members[2].node.id, payload));
    }
    await Promise.all(sends);
    await until(
      () => received[1].get(members[0].node.id.hex) === PER && received[2].get(members[0].node.id.hex) === PER,
      10_000,
      "1,000 messages",
    );
    // and a broadcast from member 2 reaches both others
    assertEquals(await rings[2].broadcast(payload), 2);
    await until(() => received[0].get(members[2].node.id.hex) === 1 && received[1].get(members[2].node.id.hex) === 1);
    const relayed = relayBytes(gw) - before;
    console.log(`gateway relayed ${relayed} bytes while 1,000 ring messages (200,000 bytes) went member to member`);
    assert(relayed < 20_000, `ring bytes crossed the gateway: ${relayed} relayed bytes`);
    const sent = members[0].node.metrics.registry.find("macula_ring_bytes_total")?.total() ?? 0;
    assert(sent >= PER * 2 * 200, `ring bytes counted (${sent})`);
    // console/status view
    const status = members[0].node.rings.list();
    assertEquals(status[0].name, "design-review");
    assertEquals(status[0].members.length, 2);
    assert(status[0].members.every((m) => m.path === "webrtc"));
    const snapshot = new SnapshotBuilder(members[0].node).take();
    assertEquals(snapshot.rings?.length, 1);
    assertEquals(snapshot.rings![0].name, "design-review");
    assertEquals(
      snapshot.rings![0].members.map((m) => m.id).sort(),
      [members[1].node.id.did, members[2].node.id.did].sort(),
    );
    // The gateway is in no ring (no rings service), but shows the ring its three clients are in.
    const served = new SnapshotBuilder(gw).take().rings;
    assertEquals(served?.map((r) => [r.name, r.role]), [["design-review", "gateway"]]);
    assertEquals(
      served![0].members.map((m) => [m.id, m.path]).sort(),
      members.map((m) => [m.node.id.did, "client"]).sort(),
    );
  } finally {
    for (const m of members) await m.node.stop();
    await gw.stop();
  }
});

Deno.test("rings: a member leaving is seen as down; send to it then fails with a typed error", opts, async () => {
  const network = new MemoryNetwork();
  const gw = await gatewayNode(network);
  const a = await memberNode(network, gw);
  const b = await memberNode(network, gw);
  try {
    const ra = a.node.rings.join("standup");
    const rb = b.node.rings.join("standup");
    await Promise.all([ra.ready(1, { signal: AbortSignal.timeout(15_000) }), rb.ready(1)]);
    const down: Array<[string, string]> = [];
    ra.on("member:down", (id: NodeId, reason: string) => down.push([id.hex, reason]));
    await rb.leave();
    await until(() => down.length === 1, 5000, "member:down");
    assertEquals(down[0][0], b.node.id.hex);
    await assertRejects(() => ra.send(b.node.id, new Uint8Array(1)), RingError);
    const stranger = new Id(KeyPair.generate().publicKey);
    const e = await assertRejects(() => ra.send(stranger, new Uint8Array(1)), RingError);
    assertEquals((e as RingError).code, "E_RING_NOT_MEMBER");
    await assertRejects(() => rb.send(a.node.id, new Uint8Array(1)), RingError);
  } finally {
    await a.node.stop();
    await b.node.stop();
    await gw.stop();
  }
});

Deno.test("rings: a member whose node stops is down (its WebRTC connection closes)", opts, async () => {
  const network = new MemoryNetwork();
  const gw = await gatewayNode(network);
  const a = await memberNode(network, gw);
  const b = await memberNode(network, gw);
  try {
    const ra = a.node.rings.join("standup");
    const rb = b.node.rings.join("standup");
    await Promise.all([ra.ready(1, { signal: AbortSignal.timeout(15_000) }), rb.ready(1)]);
    const down: string[] = [];
    ra.on("member:down", (_id: NodeId, reason: string) => down.push(reason));
    b.rtc.connection(a.node.id)!.close("gone");
    await until(() => down.length >= 1, 5000, "member:down");
    assertEquals(down[0], "connection closed");
    const e = await assertRejects(() => ra.send(b.node.id, new Uint8Array(1)), RingError);
    assertEquals((e as RingError).code, "E_RING_NO_PATH");
  } finally {
    await a.node.stop();
    await b.node.stop();
    await gw.stop();
  }
});

Deno.test("webrtc: release node-datachannel (last)", opts, releaseRtc);
