/**
 * Reachability through real NATs: `macula start` processes behind the NAT
 * lab's routers, two public nodes as observers. A home NAT is private and
 * endpoint-independent, a symmetric one endpoint-dependent, a port-forwarded
 * one public with its public address in its record, a UDP-blocked one
 * (TCP only) private with no mapping type. Needs root.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable } from "../helpers/netns.ts";
import { type LabNode, NatLab } from "../helpers/nat_lab.ts";

const why = await netnsUnavailable();
if (why) console.log(`nat_reachability_test skipped: ${why}`);

interface NatSection {
  reachability: string;
  nat: { mapping: string; portPreserving: boolean; publicIp?: string };
  observed: string[];
  confirmed: string[];
}

async function natOf(lab: NatLab, node: LabNode): Promise<NatSection> {
  return ((await lab.get(node, "/status")) as { nat: NatSection }).nat;
}

async function waitFor(
  lab: NatLab,
  node: LabNode,
  ok: (s: NatSection) => boolean,
  what: string,
  ms = 45_000,
): Promise<NatSection> {
  const deadline = Date.now() + ms;
  let last: NatSection | undefined;
  while (Date.now() < deadline) {
    last = await natOf(lab, node).catch(() => undefined);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: not after ${ms} ms; last /status nat: ${JSON.stringify(last)}`);
}

Deno.test({
  name:
    "reachability behind NATs: home private + endpoint-independent, symmetric endpoint-dependent, forwarded public, UDP-blocked private",
  ignore: why !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const lab = await NatLab.create({
      prefix: "natr",
      publicHosts: 2,
      sites: [
        { name: "home", profile: "home" },
        { name: "sym", profile: "symmetric" },
        { name: "fwd", profile: "port-forwarded", forwardPort: 9443 },
        { name: "udpb", profile: "udp-blocked" },
      ],
    });
    try {
      const observers = await Promise.all([0, 1].map((i) => lab.startNode(lab.publicHost(i))));
      const seeds = observers.flatMap((o, i) => ["--seed", NatLab.quicAddress(lab.publicAddr(i), o)]);
      const [home, sym, fwd] = await Promise.all(["home", "sym", "fwd"].map((s) => lab.startNode(lab.host(s), seeds)));
      // UDP blocked: QUIC seeds would never answer; TCP ones do.
      const tcpSeeds = observers.flatMap((o, i) => ["--seed", `tcp://${lab.publicAddr(i)}:9443/${o.did}`]);
      const udpb = await lab.startNode(lab.host("udpb"), tcpSeeds);

      const h = await waitFor(
        lab,
        home,
        (s) => s.reachability === "private" && s.nat.mapping !== "unknown",
        "home: private",
      );
      assertEquals(h.nat.mapping, "endpoint-independent");
      assertEquals(h.nat.publicIp, lab.routerWan("home"));
      assertEquals(h.nat.portPreserving, true);
      assertEquals(h.confirmed, []);

      const y = await waitFor(lab, sym, (s) => s.nat.mapping !== "unknown" && s.reachability !== "unknown", "sym");
      assertEquals(y.nat.mapping, "endpoint-dependent");
      assertEquals(y.reachability, "private");

      const wanted = `quic://${lab.routerWan("fwd")}:9443`;
      const f = await waitFor(lab, fwd, (s) => s.reachability === "public", "fwd: public");
      assert(f.confirmed.includes(wanted), JSON.stringify(f));
      const status = (await lab.get(fwd, "/status")) as { addrs: string[] };
      assert(status.addrs.includes(`${wanted}/${fwd.did}`), status.addrs.join(" "));
      // The private ones announce no public address.
      const homeAddrs = ((await lab.get(home, "/status")) as { addrs: string[] }).addrs;
      assert(!homeAddrs.some((a) => a.includes(lab.routerWan("home"))), homeAddrs.join(" "));

      // TCP only: no mapping type (TCP dials from a new port each time), the dial-back of the TCP port fails.
      const u = await waitFor(lab, udpb, (s) => s.reachability !== "unknown", "udp-blocked");
      assertEquals([u.reachability, u.nat.mapping, u.nat.publicIp], ["private", "unknown", lab.routerWan("udpb")]);
      assert(u.observed.every((a) => a.startsWith(`tcp://${lab.routerWan("udpb")}:`)), u.observed.join(" "));

      // The observers themselves sit on public addresses: dialed back by the sites, they are public.
      const o = await waitFor(lab, observers[0], (s) => s.reachability === "public", "observer: public");
      assert(o.confirmed.includes(`quic://${lab.publicAddr(0)}:9443`), JSON.stringify(o));
    } finally {
      await lab.destroy();
    }
  },
});
