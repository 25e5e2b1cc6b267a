/**
 * Relay benchmark, each figure next to its direct baseline measured in the
 * same run (loopback, TCP + Noise on both paths):
 *
 * - request/reply p50/p99 (64 B echo, sequential): direct A→B vs relayed
 *   A→R→B;
 * - one-stream throughput: direct vs relayed with the relay's rate limits
 *   off, and relayed at the default limit (1 MiB/s per circuit);
 * - relay CPU per relayed MB/s: the relay runs in its own process
 *   (`relay_process.ts`); its CPU time (from /proc) over the unlimited
 *   transfer, divided by the relayed MB/s.
 *
 * Run: `deno task bench:relay` (add `--quick` for fewer samples, `--quic` for QUIC legs instead of TCP + Noise).
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { Node } from "../src/api/node.ts";
import type { Connection } from "../src/transport/connection.ts";
import type { NodeId } from "../src/identity/node-id.ts";
import { parseAddress } from "../src/transport/address.ts";
import { hiddenTcp, quicAddr, reserved, tcpAddr, Unannounced } from "../tests/relay/relay_helpers.ts";
import { QuicTransport } from "../src/transport/quic.ts";
import { currentPlatform } from "../src/platform/current.ts";

const QUICK = Deno.args.includes("--quick");
/** Run every leg over QUIC instead of TCP + Noise (the end-to-end session is Noise in both cases). */
const QUIC = Deno.args.includes("--quic");
const LINK = QUIC ? "quic" : "tcp";
const hidden = () =>
  QUIC ? new Unannounced(new QuicTransport(currentPlatform().quic!, { host: "127.0.0.1", port: 0 })) : hiddenTcp();
const linkAddr = QUIC ? quicAddr : tcpAddr;
// Over QUIC, at most ~1,000 requests per connection: request streams are not counted closed there until the
// requester reads the end of the reply (a bug outside the relay, see the report), and the peer refuses the 1,025th.
const ROUND_TRIPS = QUICK ? 300 : QUIC ? 900 : 2_000;
const BULK = (QUICK ? 16 : 64) << 20;
const LIMITED = (QUICK ? 2 : 4) << 20;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** CPU seconds (user + system) of process `pid`. */
async function cpuSeconds(pid: number): Promise<number> {
  // Deno asks for --allow-all to read /proc/<pid>; `cat` keeps the permission set scoped.
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" }).output();
  const stat = new TextDecoder().decode(out.stdout);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in ticks (CLK_TCK 100)
}

async function startRelay(unlimited: boolean) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-sys=networkInterfaces",
      "--unstable-net",
      new URL("./relay_process.ts", import.meta.url).pathname,
    ]
      .concat(unlimited ? ["--unlimited"] : [], QUIC ? ["--quic"] : []),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) text += (await reader.read()).value ?? "";
  reader.releaseLock();
  return { child, addr: JSON.parse(text.split("\n")[0]).addr as string };
}

function node(options: Parameters<typeof Node.start>[0] = {}) {
  return Node.start({
    keyPair: KeyPair.generate(),
    host: "127.0.0.1",
    port: 0,
    logger: Logger.silent(),
    transports: [LINK],
    ...options,
  });
}

function sink(n: Node): void {
  n.handle("/bench/sink/1", async (s) => {
    let total = 0;
    for (let c = await s.read(); c !== null; c = await s.read()) total += c.length;
    await s.writeFrame(new TextEncoder().encode(String(total)));
    await s.closeWrite();
  });
}

async function roundTrips(a: Node, b: Node | NodeId): Promise<number[]> {
  const target = b instanceof Node ? b.id : b;
  const payload = "x".repeat(64);
  for (let i = 0; i < 50; i++) await a.request(target, "echo", payload);
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t = performance.now();
    await a.request(target, "echo", payload);
    times.push(performance.now() - t);
  }
  return times;
}

async function throughput(conn: Connection, bytes: number): Promise<{ mibs: number; seconds: number }> {
  const chunk = new Uint8Array(64 * 1024);
  const t = performance.now();
  const s = await conn.openStream("/bench/sink/1");
  for (let sent = 0; sent < bytes; sent += chunk.length) await s.write(chunk);
  await s.closeWrite();
  const ack = await s.readFrame();
  const seconds = (performance.now() - t) / 1000;
  if (Number(new TextDecoder().decode(ack!)) !== bytes) throw new Error("sink lost bytes");
  return { mibs: bytes / (1 << 20) / seconds, seconds };
}

const rows: string[][] = [];
const row = (...cells: string[]) => rows.push(cells);

// Direct baseline.
const a1 = await node();
const b1 = await node();
b1.expose("echo", (_f, x) => x);
sink(b1);
const direct = await a1.connect(linkAddr(b1));
const directRtt = await roundTrips(a1, b1);
const directBulk = await throughput(direct, BULK);

// Relayed, through a relay process without rate limits.
const fast = await startRelay(true);
const a2 = await node({ transports: [hidden()], relay: { via: [fast.addr] } });
const b2 = await node({ transports: [hidden()], relay: { via: [fast.addr] } });
b2.expose("echo", (_f, x) => x);
sink(b2);
const relayed = await a2.connect(await reserved(b2));
if (!relayed.relayed) throw new Error("not relayed");
const relayedRtt = await roundTrips(a2, b2);
const hopRtt = await roundTrips(a2, parseAddress(fast.addr).id!);
const cpu0 = await cpuSeconds(fast.child.pid);
const relayedBulk = await throughput(relayed, BULK);
const cpu = await cpuSeconds(fast.child.pid) - cpu0;

// Relayed at the default per-circuit limit.
const slow = await startRelay(false);
const a3 = await node({ transports: [hidden()], relay: { via: [slow.addr] } });
const b3 = await node({ transports: [hidden()], relay: { via: [slow.addr] } });
sink(b3);
const limited = await a3.connect(await reserved(b3));
const limitedBulk = await throughput(limited, LIMITED);

const p = (v: number[], q: number) => percentile(v, q).toFixed(3);
const goal = 2 * percentile(directRtt, 0.5) + percentile(hopRtt, 0.5);
row(
  "request p50 (ms)",
  p(directRtt, 0.5),
  p(relayedRtt, 0.5),
  `${(percentile(relayedRtt, 0.5) / percentile(directRtt, 0.5)).toFixed(2)}x`,
);
row("request p50 to the relay itself (its hop, ms)", "-", p(hopRtt, 0.5), `goal: relayed p50 <= ${goal.toFixed(3)}`);
row(
  "request p99 (ms)",
  p(directRtt, 0.99),
  p(relayedRtt, 0.99),
  `${(percentile(relayedRtt, 0.99) / percentile(directRtt, 0.99)).toFixed(2)}x`,
);
row(
  `one stream, ${BULK >> 20} MiB (MiB/s)`,
  directBulk.mibs.toFixed(1),
  relayedBulk.mibs.toFixed(1),
  `${(relayedBulk.mibs / directBulk.mibs).toFixed(2)}x`,
);
row(`one stream at the default limit, ${LIMITED >> 20} MiB (MiB/s)`, "-", limitedBulk.mibs.toFixed(2), "limit 1.00");
const cpuShare = cpu / relayedBulk.seconds; // cores busy during the transfer
row(
  "relay CPU per relayed MB/s (% of a core)",
  "-",
  (100 * cpuShare / (BULK / 1e6 / relayedBulk.seconds)).toFixed(3),
  `${(100 * cpuShare).toFixed(0)}% of a core at ${(BULK / 1e6 / relayedBulk.seconds).toFixed(0)} MB/s`,
);

console.log(
  `relay bench (${QUICK ? "quick" : "full"}; ${ROUND_TRIPS} sequential requests; loopback, ${
    QUIC ? "QUIC" : "TCP + Noise"
  } legs)\n`,
);
const header = ["figure", "direct", "relayed", "relayed / direct"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));

for (const n of [a1, b1, a2, b2, a3, b3]) await n.stop();
for (const r of [fast, slow]) {
  r.child.kill("SIGKILL");
  await r.child.status;
}
