/**
 * The NAT profile matrix, through real NAT routers (tests/helpers/nat_lab.ts)
 * and real `macula start` processes: one node behind each router profile
 * (two `home` sites, so home↔home is in), a relay and an observer on the
 * public segment. Every node reserves at the relay and is seeded with the
 * relayed address of every other node (identities are made first with
 * `macula id`, so the addresses are known before the nodes start). Needs
 * root; skipped with the reason otherwise.
 *
 * Asserts, for each of the 21 pairs: the two nodes are connected and
 * identified (traffic works, relayed or not); a connection reported
 * `direct` really goes to the peer's router (never a false "direct"); the
 * pairs that must become direct do (both sides endpoint-independent, or one
 * publicly reachable), and the ones that cannot stay relayed. Prints the
 * matrix.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startPermissions } from "../helpers/cli.ts";
import { netnsUnavailable } from "../helpers/netns.ts";
import { type LabNode, NatLab, type NatProfile } from "../helpers/nat_lab.ts";
import { sh } from "../../scripts/process.ts";

const why = await netnsUnavailable();
if (why) console.log(`nat_matrix_netns_test skipped: ${why}`);

const ROOT = new URL("../../", import.meta.url).pathname;
const SITES: Array<{ name: string; profile: NatProfile }> = [
  { name: "home", profile: "home" },
  { name: "home2", profile: "home" },
  { name: "acc", profile: "accepting" },
  { name: "sym", profile: "symmetric" },
  { name: "udpb", profile: "udp-blocked" },
  { name: "dnat", profile: "double-nat" },
  { name: "fwd", profile: "port-forwarded" },
];

interface PeerEntry {
  id: string;
  transport: string;
  route?: string;
  address: string;
  realms?: string[];
}

/**
 * What a pair must end as. Direct: both NATs keep one port per source
 * (home, accepting, a double NAT of two home routers), so the coordinated
 * dials meet; or one side is publicly reachable (port-forwarded). Relayed:
 * UDP blocked on either side (Deno cannot punch over TCP, and a TCP-only
 * node does not yet dial a public peer's direct TCP address on its own), or
 * an endpoint-dependent (symmetric) NAT facing one that filters by endpoint.
 */
function expected(a: NatProfile, b: NatProfile): "direct" | "relayed" {
  if (a === "udp-blocked" || b === "udp-blocked") return "relayed";
  if (a === "port-forwarded" || b === "port-forwarded") return "direct";
  if (a === "symmetric" || b === "symmetric") return "relayed";
  return "direct";
}

Deno.test({
  name: "NAT matrix: every pair of router profiles connects; direct where the NATs allow it, relayed otherwise",
  ignore: why !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const lab = await NatLab.create({ prefix: "nmtx", publicHosts: 2, sites: SITES });
    try {
      const relay = await lab.startNode(lab.publicHost(0), ["--relay"]);
      const observer = await lab.startNode(lab.publicHost(1));
      const relayQuic = NatLab.quicAddress(lab.publicAddr(0), relay);
      const relayTcp = `tcp://${lab.publicAddr(0)}:9443/${relay.did}`;
      const observerQuic = NatLab.quicAddress(lab.publicAddr(1), observer);
      const observerTcp = `tcp://${lab.publicAddr(1)}:9443/${observer.did}`;
      // Identities first: every node's relayed address is known before any starts.
      const dids = new Map<string, string>();
      for (const s of SITES) {
        const dataDir = `.macula/${lab.run}/${lab.host(s.name).slice(lab.run.length + 1)}`;
        const out = await sh(Deno.execPath(), [
          "run",
          ...startPermissions(),
          `${ROOT}main.ts`,
          "id",
          "--data-dir",
          dataDir,
        ]);
        dids.set(s.name, out.trim().split("\n").pop()!.trim());
      }
      const nodes = new Map<string, LabNode>();
      await Promise.all(SITES.map(async (s) => {
        const udpBlocked = s.profile === "udp-blocked";
        const via = udpBlocked ? relayTcp : relayQuic;
        const seeds = SITES.filter((o) => o.name !== s.name).flatMap((
          o,
        ) => ["--seed", `${via}/circuit/${dids.get(o.name)}`]);
        const args = ["--relay-via", via, "--seed", udpBlocked ? observerTcp : observerQuic, ...seeds];
        nodes.set(s.name, await lab.startNode(lab.host(s.name), args));
      }));
      for (const s of SITES) assertEquals(nodes.get(s.name)!.did, dids.get(s.name));

      const pairs = SITES.flatMap((a, i) => SITES.slice(i + 1).map((b) => [a, b] as const));
      const outcome = new Map<string, { route: string; address: string }>();
      const entryOf = async (from: string, to: string) =>
        ((await lab.get(nodes.get(from)!, "/peers")) as PeerEntry[]).find((p) => p.id === dids.get(to));
      // Settle: every pair connected and identified, and every pair that should go direct did (or 40 s passed).
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline) {
        let pending = 0;
        for (const [a, b] of pairs) {
          const e = await entryOf(a.name, b.name).catch(() => undefined);
          if (e?.realms) outcome.set(`${a.name}-${b.name}`, { route: e.route ?? "direct", address: e.address });
          const want = expected(a.profile, b.profile);
          if (!e?.realms || (want === "direct" && e.route !== "direct")) pending++;
        }
        if (pending === 0) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      // A moment more, so that no pair expected to stay relayed is judged before it could have punched.
      await new Promise((r) => setTimeout(r, 3000));
      const rows: string[] = [];
      const failures: string[] = [];
      for (const [a, b] of pairs) {
        const e = await entryOf(a.name, b.name).catch(() => undefined);
        const key = `${a.profile}(${a.name}) ↔ ${b.profile}(${b.name})`;
        if (!e?.realms) {
          failures.push(`${key}: not connected (${JSON.stringify(outcome.get(`${a.name}-${b.name}`))})`);
          continue;
        }
        const route = e.route ?? "direct";
        rows.push(`${key.padEnd(44)} ${route.padEnd(8)} ${e.transport.padEnd(6)} ${e.address}`);
        if (route === "direct") {
          const host = e.address.replace(/^\[?([^\]]+?)\]?:\d+$/, "$1");
          if (host !== lab.routerWan(b.name)) failures.push(`${key}: "direct" to ${e.address}, not B's router`);
        }
        const want = expected(a.profile, b.profile);
        if (want !== route) failures.push(`${key}: ${route}, expected ${want}`);
      }
      console.log(rows.join("\n"));
      assert(failures.length === 0, failures.join("\n"));
    } finally {
      await lab.destroy();
    }
  },
});
