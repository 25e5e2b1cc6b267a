/**
 * The whole path across sites, through real NAT routers (tests/helpers/nat_lab.ts)
 * and real `macula start` processes: two relays on the public segment
 * (R1, R2), and two homes (A, B) behind `home` NATs (endpoint-independent,
 * dropping unsolicited input), each reserved at R1 (configured) and R2 (met
 * in the mesh). Needs root; skipped with the reason otherwise.
 *
 * 1. A one-shot `macula call` from A's site reaches B's echo at once,
 *    through B's relayed address.
 * 2. A, seeded with B's relayed address, connects relayed, punches a hole
 *    and moves to a direct QUIC connection to B's router (judged from the
 *    connection's route and remote address, and from the relay's circuits
 *    closing), without any test action.
 * 3. R1 is killed: the punched connection survives, B's reservation at R2
 *    carries a new relayed call within 10 s of the kill.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startPermissions } from "../helpers/cli.ts";
import { netnsUnavailable } from "../helpers/netns.ts";
import { type LabNode, NatLab } from "../helpers/nat_lab.ts";

const why = await netnsUnavailable();
if (why) console.log(`relay_nat_netns_test skipped: ${why}`);

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

interface PeerEntry {
  id: string;
  transport: string;
  route?: string;
  relay?: string;
  address: string;
}
interface ClientStatus {
  "relay-client"?: { relays: Array<{ relay?: string; id?: string; state: string }>; addrs: string[] };
}

async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

/** B's relayed address through the relay `relayDid`, once reserved there. */
function relayedVia(status: ClientStatus, relayDid: string): string | undefined {
  return status["relay-client"]?.addrs.find((a) => a.includes(`/${relayDid}/circuit/`));
}

function counter(metrics: string, name: string): number {
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, "m").exec(metrics)?.[1] ?? 0);
}

/** Run a one-shot `macula call` inside `ns`, seeded with `seed`; resolves with its answer. */
async function callFrom(lab: NatLab, ns: string, seed: string, args: unknown): Promise<unknown> {
  const out = await lab.exec(ns, [
    Deno.execPath(),
    "run",
    ...startPermissions(),
    MAIN,
    "call",
    "lab.echo",
    JSON.stringify(args),
    "--seed",
    seed,
    "--timeout",
    "8000",
    "--port",
    "0",
    "--health-port",
    "0",
  ]);
  return JSON.parse(out.trim().split("\n").pop()!);
}

Deno.test({
  name: "across NATs: relayed at once, then direct after a hole punch; the punched path outlives its relay",
  ignore: why !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const lab = await NatLab.create({
      prefix: "rnat",
      publicHosts: 2,
      sites: [{ name: "a", profile: "home" }, { name: "b", profile: "home" }],
    });
    try {
      const r1 = await lab.startNode(lab.publicHost(0), ["--relay"]);
      const r1Addr = NatLab.quicAddress(lab.publicAddr(0), r1);
      const r2 = await lab.startNode(lab.publicHost(1), ["--relay", "--relay-peer", r1Addr]);
      const r2Addr = NatLab.quicAddress(lab.publicAddr(1), r2);
      const homeArgs = ["--relay-via", r1Addr, "--seed", r2Addr];
      const b = await lab.startNode(lab.host("b"), [...homeArgs, "--echo", "lab.echo"]);
      const bStatus = () => lab.get(b, "/status") as Promise<ClientStatus>;
      const bViaR1 = await until(async () => relayedVia(await bStatus(), r1.did), 20_000, "B reserved at R1");
      await until(async () => relayedVia(await bStatus(), r2.did), 20_000, "B reserved at R2 (met in the mesh)");

      // 1. Relayed at once: a one-shot client at site A calls B's echo through R1.
      const answer = await callFrom(lab, lab.host("a"), bViaR1, { over: "relay" }) as { args: unknown };
      assertEquals(answer.args, { over: "relay" });
      assert(counter(String(await lab.get(r1, "/metrics")), "macula_relay_circuits_opened_total") >= 1);

      // 2. A keeps B connected (seeded with its relayed address): relayed first, then direct.
      const started = performance.now();
      const a: LabNode = await lab.startNode(lab.host("a"), [...homeArgs, "--seed", bViaR1]);
      const peersOfA = async () => ((await lab.get(a, "/peers")) as PeerEntry[]).find((p) => p.id === b.did);
      const direct = await until(
        async () => {
          const p = await peersOfA();
          return p?.route === "direct" ? p : undefined;
        },
        30_000,
        "A's connection to B became direct",
      );
      const toDirect = Math.round(performance.now() - started);
      console.log(`A start -> direct connection to B: ${toDirect} ms (process start and relayed contact included)`);
      assertEquals(direct.transport, "quic");
      assert(
        direct.address.startsWith(`${lab.routerWan("b")}:`),
        `direct connection goes to B's router, not a relay: ${direct.address}`,
      );
      // A hole punch made it (nothing else can pass B's router), and the node says how long it took.
      const punched = String(await lab.get(a, "/metrics")) + String(await lab.get(b, "/metrics"));
      assert(/^macula_punch_results_total\{[^}]*result="direct"[^}]*\} [1-9]/m.test(punched), punched);
      assert(/^macula_punch_time_to_direct_seconds_count [1-9]/m.test(punched), "time to direct recorded");
      // The relayed circuit retires once quiet; no circuit stays open at either relay.
      await until(
        async () => {
          const open = counter(String(await lab.get(r1, "/metrics")), "macula_relay_circuits") +
            counter(String(await lab.get(r2, "/metrics")), "macula_relay_circuits");
          return open === 0 ? true : undefined;
        },
        20_000,
        "relayed circuits closed after the upgrade",
      );

      // 3. R1 dies: the punched connection lives on, and B is reached through R2 within 10 s.
      r1.proc.kill("SIGKILL");
      const killed = performance.now();
      const bViaR2 = relayedVia(await bStatus(), r2.did)!;
      const again = await until(
        async () => (await callFrom(lab, lab.host("a"), bViaR2, { over: "R2" }) as { args: unknown }).args,
        10_000,
        "a relayed call through R2 after R1 died",
      );
      assertEquals(again, { over: "R2" });
      console.log(`R1 killed -> call through R2 answered: ${Math.round(performance.now() - killed)} ms`);
      await new Promise((r) => setTimeout(r, 4_000)); // past QUIC's 3 s idle timeout
      const still = await peersOfA();
      assertEquals(still?.route, "direct", "the punched connection survived the relay");
      assertEquals(still?.address, direct.address);
    } finally {
      await lab.destroy();
    }
  },
});
