/**
 * The NAT lab (tests/helpers/nat_lab.ts) behaves as specified: mapping per
 * profile, unsolicited input, port forwarding, TTL-limited packets dying in
 * the core, conntrack flush. Real UDP/TCP probes in real namespaces (root).
 */
import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import { netnsUnavailable } from "../helpers/netns.ts";
import { conntrackUnavailable, NatLab } from "../helpers/nat_lab.ts";

const why = await netnsUnavailable();
if (why) console.log(`nat_lab_test skipped: ${why}`);
const noConntrack = why ? null : await conntrackUnavailable();
if (noConntrack) console.log(`nat_lab_test: conntrack flush step skipped: ${noConntrack}`);

type Result = { target: string; observed?: string; error?: string };

function results(reply: Record<string, unknown>): Result[] {
  return reply.results as Result[];
}

function hostPort(address: string | undefined): [string, number] {
  assert(address, "no observed address");
  const at = address.lastIndexOf(":");
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

Deno.test({
  name: "nat lab: every router profile behaves as specified",
  ignore: why !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const lab = await NatLab.create({
      prefix: "natl",
      publicHosts: 2,
      sites: [
        { name: "home", profile: "home" },
        { name: "acc", profile: "accepting" },
        { name: "sym", profile: "symmetric" },
        { name: "udpb", profile: "udp-blocked" },
        { name: "dbl", profile: "double-nat" },
        { name: "fwd", profile: "port-forwarded", forwardPort: 9443 },
      ],
    });
    try {
      const echoes = [0, 1].map((i) => lab.spawnProbe(lab.publicHost(i), ["echo", lab.publicAddr(i), "7000"]));
      const fwdEcho = lab.spawnProbe(lab.host("fwd"), ["echo", "0.0.0.0", "9443"]);
      for (const p of [...echoes, fwdEcho]) assertEquals(await p.next(), { ready: true });
      const targets = [0, 1].map((i) => `${lab.publicAddr(i)}:7000`);

      await t.step("mapping: same port towards two hosts except symmetric; UDP blocked where told", async () => {
        const asks = await Promise.all(lab.sites.map(async (site, k) => ({
          site,
          udp: results(
            await lab.probe(lab.host(site), [
              "ask",
              "udp",
              ...targets,
              "--local-port",
              `${41000 + k}`,
              "--timeout",
              "1500",
            ]),
          ),
          tcp: results(await lab.probe(lab.host(site), ["ask", "tcp", ...targets])),
        })));
        for (const { site, udp, tcp } of asks) {
          for (const r of tcp) assertEquals(hostPort(r.observed)[0], lab.routerWan(site), `${site} tcp`);
          if (site === "udpb") {
            assertEquals(udp.map((r) => r.error), ["timeout", "timeout"]);
            continue;
          }
          const [[ip0, port0], [ip1, port1]] = udp.map((r) => hostPort(r.observed));
          assertEquals([ip0, ip1], [lab.routerWan(site), lab.routerWan(site)], `${site} udp ip`);
          if (site === "sym") assertNotEquals(port0, port1, "symmetric: one port per destination");
          else assertEquals(port0, port1, `${site}: endpoint-independent`);
        }
      });

      await t.step("unsolicited input: home drops it, accepting takes it", async () => {
        const listeners = ["home", "acc"].map((s) => lab.spawnProbe(lab.router(s), ["listen", "udp", "40200"]));
        for (const l of listeners) assertEquals(await l.next(), { ready: true });
        for (const s of ["home", "acc"]) {
          await lab.probe(lab.publicHost(0), ["send", `${lab.routerWan(s)}:40200`]);
        }
        assertEquals(await listeners[0].next(), { error: "timeout" });
        assertEquals(hostPort((await listeners[1].next()).from as string)[0], lab.publicAddr(0));
      });

      await t.step("port-forwarded: reachable from outside at the router's wan address; home is not", async () => {
        const fwd = `${lab.routerWan("fwd")}:9443`;
        const home = `${lab.routerWan("home")}:9443`;
        const udp = results(await lab.probe(lab.publicHost(0), ["ask", "udp", fwd, home, "--timeout", "1500"]));
        assertEquals(hostPort(udp[0].observed)[0], lab.publicAddr(0), "the host sees the real source");
        assertEquals(udp[1].error, "timeout");
        const tcp = results(await lab.probe(lab.publicHost(1), ["ask", "tcp", fwd, home, "--timeout", "1500"]));
        assertEquals(hostPort(tcp[0].observed)[0], lab.publicAddr(1));
        assert(tcp[1].error, "home must not accept inbound TCP");
      });

      await t.step("double NAT: the outer router's address is observed, both routers track the flow", async () => {
        assertEquals(lab.privateAddr("dbl"), "10.5.1.10");
        const udp = results(await lab.probe(lab.host("dbl"), ["ask", "udp", targets[0]]));
        assertEquals(hostPort(udp[0].observed)[0], lab.routerWan("dbl"));
        if (!noConntrack) {
          for (const ns of lab.routers("dbl")) assert((await lab.conntrackCount(ns)) > 0, `no entry in ${ns}`);
        }
      });

      await t.step("TTL 2 from a private host dies in the core, TTL 3 arrives", async () => {
        for (const [ttl, arrives] of [[2, false], [3, true]] as const) {
          const listener = lab.spawnProbe(lab.publicHost(1), ["listen", "udp", "7001", "--timeout", "1500"]);
          assertEquals(await listener.next(), { ready: true });
          await lab.probe(lab.host("home"), ["send", `${lab.publicAddr(1)}:7001`, "--ttl", `${ttl}`]);
          const got = await listener.next();
          assertEquals(got.error === undefined, arrives, `ttl ${ttl}: ${JSON.stringify(got)}`);
          if (arrives) assertEquals(hostPort(got.from as string)[0], lab.routerWan("home"));
          await listener.exited;
        }
      });

      await t.step({
        name: "flushConntrack empties the routers' tables",
        ignore: noConntrack !== null,
        fn: async () => {
          assert((await lab.conntrackCount(lab.router("home"))) > 0);
          await lab.flushConntrack();
          for (const s of lab.sites) {
            for (const ns of lab.routers(s)) assertEquals(await lab.conntrackCount(ns), 0, ns);
          }
        },
      });
    } finally {
      await lab.destroy();
    }
  },
});
