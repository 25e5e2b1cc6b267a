/** Small cluster modules: suspicion math, membership rules, dissemination, local health, interfaces, endpoints, events. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { formatEndpoint, isMulticastIPv4, parseEndpoint, sameSubnet } from "../../src/cluster/endpoint.ts";
import { EventQueue } from "../../src/cluster/events.ts";
import { sameInterfaces, selectInterfaces } from "../../src/cluster/interfaces.ts";
import { createAliveToken, updateSize } from "../../src/cluster/messages.ts";
import { DEFAULT_TIMINGS, suspicionFloor } from "../../src/cluster/options.ts";
import { Broadcasts } from "../../src/cluster/swim/broadcasts.ts";
import { LocalHealth, StallDetector } from "../../src/cluster/swim/health.ts";
import { Membership, type MemberState } from "../../src/cluster/swim/membership.ts";
import { Suspicion } from "../../src/cluster/swim/suspicion.ts";
import type { InterfaceAddress } from "../../src/platform/types.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";

const ids = Array.from({ length: 5 }, () => KeyPair.generate());
const id = (i: number) => new NodeId(ids[i].publicKey);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("suspicion: the floor grows with log10 of the cluster size", () => {
  assertEquals(suspicionFloor(1, DEFAULT_TIMINGS), 1600);
  assertEquals(suspicionFloor(10, DEFAULT_TIMINGS), 1600);
  assertEquals(suspicionFloor(20, DEFAULT_TIMINGS), 2082);
  assertEquals(suspicionFloor(100, DEFAULT_TIMINGS), 3200);
});

Deno.test("suspicion: confirmations shrink the timeout from max to min (Lifeguard)", () => {
  const s = new Suspicion({ min: 1000, max: 3000, expected: 2, from: id(0), onTimeout: () => {} });
  try {
    assertEquals(s.timeout, 3000);
    assert(!s.confirm(id(0)), "the raiser is not a confirmation");
    assert(s.confirm(id(1)));
    assert(!s.confirm(id(1)), "the same member confirms once");
    assertEquals(s.timeout, Math.floor(3000 - 2000 * Math.log(2) / Math.log(3)));
    assert(s.confirm(id(2)));
    assertEquals(s.timeout, 1000);
    s.confirm(id(3));
    assertEquals(s.timeout, 1000, "never below min");
    const none = new Suspicion({ min: 1000, max: 3000, expected: 0, from: id(0), onTimeout: () => {} });
    assertEquals(none.timeout, 1000, "with no confirmations to expect, the minimum applies");
    none.cancel();
  } finally {
    s.cancel();
  }
});

Deno.test("suspicion: fires after its timeout, can be deferred, and not after cancel", async () => {
  let fired = 0;
  const s = new Suspicion({ min: 30, max: 30, expected: 0, from: id(0), onTimeout: () => fired++ });
  await sleep(60);
  assertEquals(fired, 1);
  s.defer(30);
  await sleep(60);
  assertEquals(fired, 2);
  s.cancel();
  s.defer(10);
  await sleep(30);
  assertEquals(fired, 2);
});

Deno.test("membership: SWIM precedence — alive by incarnation, suspect/dead at or above, dead is final", () => {
  const seen: Array<[string, MemberState | null, MemberState]> = [];
  const table = new Membership({
    onTransition: (m, from, to) => seen.push([m.id.short, from, to]),
    suspicion: { bounds: () => ({ min: 10_000, max: 10_000, expected: 0 }), onTimeout: () => {} },
  });
  const x = id(1);
  const t0 = createAliveToken(signerOf(ids[1]), 0, ["10.0.0.2:1"]);
  assert(table.alive(t0, "10.0.0.2:1"));
  assert(!table.alive(t0, "10.0.0.2:1"), "same incarnation: no change");
  assertEquals(table.suspect(x, 0, id(0)), "new");
  assertEquals(table.suspect(x, 0, id(2)), "confirmed");
  assertEquals(table.suspect(x, 0, id(2)), "ignored");
  assert(!table.alive(t0, "10.0.0.2:1"), "alive at the same incarnation does not clear a suspicion");
  assert(table.alive(createAliveToken(signerOf(ids[1]), 1, ["10.0.0.2:1"]), "10.0.0.2:1"), "a refutation does");
  assertEquals(table.suspect(x, 0, id(0)), "ignored", "stale suspicion");
  assert(!table.dead(x, 0, id(0)), "stale death");
  assert(table.dead(x, 1, id(0)));
  assert(
    !table.alive(createAliveToken(signerOf(ids[1]), 1, ["10.0.0.2:1"]), "10.0.0.2:1"),
    "dead is final for the incarnation",
  );
  assertEquals(table.suspect(x, 5, id(0)), "ignored", "dead members are not suspected");
  assert(
    table.alive(createAliveToken(signerOf(ids[1]), 2, ["10.0.0.2:1"]), "10.0.0.2:1"),
    "a higher incarnation revives",
  );
  assert(table.dead(x, 2, x), "its own death notice means it left");
  assertEquals(table.get(x)!.state, "left");
  assertEquals(seen.map(([, f, t]) => `${f}>${t}`), [
    "null>alive",
    "alive>suspect",
    "suspect>alive",
    "alive>dead",
    "dead>alive",
    "alive>left",
  ]);
  assertEquals(table.sweep(60_000).length, 0);
  assertEquals(table.sweep(0).length, 1);
  assertEquals(table.size, 0);
  table.clear();
});

Deno.test("broadcasts: newer update replaces older, least-sent first, limited retransmits and budget", () => {
  const q = new Broadcasts(2);
  const a = { kind: "suspect" as const, id: id(1), incarnation: 1, by: id(0) };
  const b = { kind: "dead" as const, id: id(1), incarnation: 1, by: id(0) };
  const c = { kind: "alive" as const, token: createAliveToken(signerOf(ids[2]), 0, ["10.0.0.3:1"]) };
  q.add(a);
  q.add(b);
  q.add(c);
  assertEquals(q.size, 2, "one pending update per member");
  assertEquals(q.take(10_000, 5).length, 2);
  assertEquals(q.take(updateSize(c) + 1, 5).length, 1, "the byte budget is respected");
  assertEquals(q.take(10_000, 5).length, 1, "2 × ceil(log10 6) = 2 transmissions each");
  assertEquals(q.size, 0);
  q.add(c);
  q.forget(id(2).hex);
  assertEquals(q.size, 0);
});

Deno.test("local health: clamped score, multiplier; stall detector notices a blocked loop", async () => {
  const h = new LocalHealth(3);
  h.apply(-1);
  assertEquals(h.multiplier, 1);
  h.apply(10);
  assertEquals(h.score, 3);
  const d = new StallDetector({ tick: 10, threshold: 50 });
  d.start();
  try {
    await sleep(30);
    const before = performance.now(); // monotonic, like the detector
    assert(!d.stalledSince(before));
    const until = Date.now() + 150;
    while (Date.now() < until) { /* block the event loop */ }
    assert(d.stalledSince(before));
  } finally {
    d.stop();
  }
});

const IFACES: InterfaceAddress[] = [
  { name: "lo", address: "127.0.0.1", family: "IPv4", internal: true, netmask: "255.0.0.0" },
  { name: "lo", address: "::1", family: "IPv6", internal: true },
  { name: "eth0", address: "192.168.1.20", family: "IPv4", internal: false, netmask: "255.255.255.0" },
  { name: "eth0", address: "fe80::1", family: "IPv6", internal: false },
  { name: "wlan0", address: "10.1.0.7", family: "IPv4", internal: false, netmask: "255.255.0.0" },
];

Deno.test("interfaces: defaults to every non-loopback IPv4 address (Ethernet and Wi-Fi)", () => {
  const s = selectInterfaces(IFACES);
  assertEquals(s.selected.map((i) => i.address), ["192.168.1.20", "10.1.0.7"]);
  assertEquals(s.selected[1].netmask, "255.255.0.0");
  assert(!s.loopbackFallback);
});

Deno.test("interfaces: explicit names/addresses, the listen host, and the loopback fallback", () => {
  assertEquals(selectInterfaces(IFACES, { wanted: ["wlan0"] }).selected.map((i) => i.name), ["wlan0"]);
  assertEquals(selectInterfaces(IFACES, { wanted: ["192.168.1.20", "lo"] }).selected.map((i) => i.name), [
    "eth0",
    "lo",
  ]);
  assertEquals(selectInterfaces(IFACES, { wanted: ["eth9", "eth0"] }).unmatched, ["eth9"]);
  assertEquals(selectInterfaces([], { wanted: ["127.0.0.1"] }).selected.map((i) => i.address), ["127.0.0.1"]);
  assertEquals(selectInterfaces(IFACES, { host: "10.1.0.7" }).selected.map((i) => i.name), ["wlan0"]);
  assertEquals(selectInterfaces(IFACES, { host: "127.0.0.1" }).selected.map((i) => i.name), ["lo"]);
  assertEquals(selectInterfaces(IFACES, { host: "0.0.0.0" }).selected.length, 2);
  assertEquals(selectInterfaces(IFACES, { host: "10.9.9.9" }).unmatched, ["10.9.9.9"]);
  const lonely = selectInterfaces(IFACES.filter((i) => i.internal));
  assert(lonely.loopbackFallback);
  assertEquals(lonely.selected.map((i) => i.address), ["127.0.0.1"]);
  assert(sameInterfaces(lonely.selected, [{ name: "x", address: "127.0.0.1", netmask: "255.0.0.0" }]));
});

Deno.test("endpoints: strict IPv4 host:port, subnets, multicast range", () => {
  assertEquals(parseEndpoint("10.0.0.5:40123"), { hostname: "10.0.0.5", port: 40123 });
  for (const bad of ["10.0.0.5", "10.0.0.5:0", "10.0.0.5:65536", "256.0.0.1:1", "a.b.c.d:1", "[::1]:5", "01.2.3.4:5"]) {
    assertEquals(parseEndpoint(bad), null, bad);
  }
  assertEquals(formatEndpoint({ hostname: "1.2.3.4", port: 5 }), "1.2.3.4:5");
  assert(sameSubnet("192.168.1.20", "192.168.1.99", "255.255.255.0"));
  assert(!sameSubnet("192.168.1.20", "192.168.2.99", "255.255.255.0"));
  assert(isMulticastIPv4("230.1.1.251") && isMulticastIPv4("224.0.0.251") && !isMulticastIPv4("240.0.0.1"));
});

Deno.test("event queue: buffered, bounded, ends on close or return", async () => {
  let closed = 0;
  const q = new EventQueue<number>(() => closed++, 2);
  q.push(1);
  q.push(2);
  q.push(3);
  const waiting = q.next();
  assertEquals(await waiting, { value: 2, done: false }, "the oldest was dropped");
  assertEquals(await q.next(), { value: 3, done: false });
  const pending = q.next();
  q.push(4);
  assertEquals(await pending, { value: 4, done: false });
  await q.return();
  assertEquals(closed, 1);
  assertEquals(await q.next(), { value: undefined, done: true });
});
