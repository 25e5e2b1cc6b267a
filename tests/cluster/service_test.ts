/**
 * `ClusterService` inside real nodes on loopback (real UDP multicast and
 * sockets, one process): gossip discovery, node events and the async
 * iterator, dialing, /status, /peers and /metrics contributions, graceful
 * leave, static seeds over `/macula/cluster/1`, mDNS, and failure modes.
 * Each test uses its own random group and port so parallel runs do not mix.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { loopbackNode, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import type { NodeId } from "../../src/identity/node-id.ts";
import { type ClusterOptions, ClusterService } from "../../src/cluster/service.ts";
import { ClusterError } from "../../src/cluster/errors.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { FAST } from "./sim.ts";

function isolated(): Pick<ClusterOptions, "group" | "port" | "interfaces" | "timings"> {
  const r = () => 1 + Math.floor(Math.random() * 250);
  return {
    group: `239.77.${r()}.${r()}`,
    port: 40000 + Math.floor(Math.random() * 20000),
    interfaces: ["127.0.0.1"],
    timings: FAST,
  };
}

async function clusterNodes(
  n: number,
  options: ClusterOptions,
): Promise<Array<{ node: Node; cluster: ClusterService }>> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const cluster = new ClusterService(options);
    out.push({ node: await loopbackNode({ services: [cluster], transports: ["tcp"] }), cluster });
  }
  return out;
}

const live = (c: ClusterService) => c.members().filter((m) => m.state === "alive").length;

Deno.test("cluster service: gossip discovery over loopback multicast, events, dials, status, peers and metrics", async () => {
  const opts = { ...isolated(), secret: "service-test-secret" };
  const first = new ClusterService(opts);
  const a = await loopbackNode({ services: [first], transports: ["tcp"] });
  const ups: NodeId[] = [];
  const downs: NodeId[] = [];
  a.on("peer:up", (id) => ups.push(id));
  a.on("peer:down", (id) => downs.push(id));
  const iterator = first.events();
  const rest = await clusterNodes(2, opts);
  const all = [{ node: a, cluster: first }, ...rest];
  try {
    await until(() => all.every(({ cluster }) => live(cluster) === 2), 5000, "everyone sees two members");
    assertEquals(ups.map((id) => id.hex).sort(), rest.map(({ node }) => node.id.hex).sort());
    const seen = [(await iterator.next()).value, (await iterator.next()).value];
    assert(seen.every((e) => e?.type === "up"));
    await until(() => rest.every(({ node }) => !!a.connection(node.id)), 5000, "members are dialed");
    const status = a.status().cluster as Record<string, unknown>;
    assertEquals(status.strategy, "gossip");
    assertEquals(status.secret, true);
    assertEquals(status.open, false, "a cluster with a secret is not open");
    assertEquals((status.counts as Record<string, number>).alive, 2);
    assertEquals((status.members as unknown[]).length, 2);
    assert(a.peers().every((p) => p.membership === "alive"));
    const metrics = a.metrics.registry.render();
    assert(metrics.includes('macula_cluster_members{state="alive"} 2'), metrics);
    assert(/macula_cluster_bytes_sent_total\{type="announce"\} \d+/.test(metrics));
    // a graceful stop is a departure, seen at once
    await rest[1].node.stop();
    await until(() => downs.length === 1, 2000, "peer:down after a graceful stop");
    assertEquals(first.members().find((m) => m.id === rest[1].node.id.did)?.state, "left");
    assertEquals((await iterator.next()).value?.type, "down");
    await iterator.return!();
  } finally {
    for (const { node } of all) await node.stop();
  }
});

Deno.test("cluster service: static strategy joins through seeds over /macula/cluster/1, no multicast", async () => {
  const base = isolated();
  const [a] = await clusterNodes(1, { ...base, strategy: "static", secret: "static-secret" });
  const seed = a.node.addrs[0];
  const [b] = await clusterNodes(1, { ...base, strategy: "static", secret: "static-secret", seeds: [seed] });
  b.node.addSeed(seed);
  const [intruder] = await clusterNodes(1, { ...base, strategy: "static", secret: "wrong-secret", seeds: [seed] });
  intruder.node.addSeed(seed);
  try {
    await until(() => live(a.cluster) === 1 && live(b.cluster) === 1, 5000, "seed and joiner are members");
    assertEquals((a.node.status().cluster as Record<string, unknown>).group, undefined);
    await until(
      () => (a.cluster.swim?.metrics.dropped.get({ reason: "bad_mac" }) ?? 0) > 0,
      5000,
      "the wrong secret is counted",
    );
    assertEquals(a.cluster.members().map((m) => m.id), [b.node.id.did]);
    assertEquals(intruder.cluster.members().length, 0);
  } finally {
    for (const { node } of [a, b, intruder]) await node.stop();
  }
});

Deno.test("cluster service: mdns strategy discovers through DNS-SD _macula._udp.local", async () => {
  const base = isolated();
  const mdns = { group: base.group, port: base.port };
  const nodes = await clusterNodes(3, { ...base, port: undefined, strategy: "mdns", mdns });
  try {
    await until(() => nodes.every(({ cluster }) => live(cluster) === 2), 8000, "everyone found the others");
    const status = nodes[0].node.status().cluster as Record<string, unknown>;
    assertEquals([status.open, status.secret], [true, false], "no secret: /status says the cluster is open");
    const metrics = nodes[0].node.metrics.registry.render();
    assert(/macula_cluster_bytes_received_total\{type="mdns"\} [1-9]/.test(metrics), metrics);
  } finally {
    for (const { node } of nodes) await node.stop();
  }
});

Deno.test("cluster service: interface changes (DHCP, Wi-Fi) re-bind sockets and bump the incarnation", async () => {
  const base = isolated();
  const platform = currentPlatform();
  let list = [{ name: "lo", address: "127.0.0.1", family: "IPv4" as const, internal: true, netmask: "255.0.0.0" }];
  const changing = { ...platform, process: { ...platform.process, interfaces: () => list } };
  const [a] = await clusterNodes(1, { ...base, interfaces: ["lo"], platform: changing, rescanInterval: 100 });
  const [b] = await clusterNodes(1, base);
  try {
    await until(() => live(a.cluster) === 1 && live(b.cluster) === 1, 5000, "the two join");
    const inc = a.cluster.swim!.incarnation;
    list = [...list, { ...list[0], address: "127.0.0.2" }];
    await until(() => a.cluster.swim!.token.addrs.length === 2, 2000, "a second endpoint");
    assert(a.cluster.swim!.incarnation > inc);
    list = list.slice(1);
    await until(() => b.cluster.members()[0]?.addr.startsWith("127.0.0.2:"), 3000, "b follows a to its new address");
    await new Promise((r) => setTimeout(r, 1000));
    assertEquals(b.cluster.members()[0].state, "alive");
  } finally {
    for (const { node } of [a, b]) await node.stop();
  }
});

Deno.test("cluster service: without UDP it is disabled with a reason; an unknown interface is a ClusterError", async () => {
  const { udp: _udp, ...noUdp } = currentPlatform();
  const cluster = new ClusterService({ platform: noUdp, ...isolated() });
  const node = await loopbackNode({ services: [cluster], transports: ["tcp"] });
  try {
    assert(String((node.status().cluster as Record<string, unknown>).disabled).includes("UDP"));
  } finally {
    await node.stop();
  }
  const bad = new ClusterService({ ...isolated(), interfaces: ["nosuchif0"] });
  await assertRejects(() => loopbackNode({ services: [bad], transports: ["tcp"] }), ClusterError, "nosuchif0");
  await bad.stop();
  assertEquals(await bad.events().next(), { value: undefined, done: true }, "a stopped service ends its iterators");
});
