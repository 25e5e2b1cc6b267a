/**
 * One mesh node as a real process for the restart tests and the restart
 * benchmark: `deno run -A --unstable-net tests/cli/restart_peer.ts <role>
 * --data-dir D --port P [--seed ADDR]`. It prints JSON lines on stdout:
 * `{"ready":…}` once started (and subscribed or advertised), then per role
 *
 * - `sub`: `{"m":seq}` per message on `restart.news`;
 * - `pub`: publishes `--count` messages at `--rate`/s (`{"published":…}`
 *   when done, then its counters once its queues are idle);
 * - `provider`: serves `restart.echo` (answers with its pid);
 * - `caller`: calls `restart.echo` every `--interval` ms, `{"c":ms,"ok":…}`;
 * - `both`: `sub` and `caller` at once.
 *
 * SIGKILL it and start it again with the same data dir and port to reboot it.
 */
import { Node } from "../../mod.ts";
import { Logger } from "../../src/log/logger.ts";

const args: Record<string, string> = { count: "0", rate: "100", interval: "50" };
for (let i = 1; i < Deno.args.length; i += 2) args[Deno.args[i].replace(/^--/, "")] = Deno.args[i + 1];
const role = Deno.args[0];
const out = (value: unknown) => console.log(JSON.stringify(value));
const level = (Deno.env.get("RESTART_LOG") ?? "warn") as "info" | "warn";
const logger = new Logger({ level, sink: (l) => console.error(l) });

const node = await Node.start({
  dataDir: args["data-dir"],
  host: args.host ?? "127.0.0.1",
  port: Number(args.port),
  seeds: args.seed ? [args.seed] : [],
  logger,
});
const metric = (name: string) =>
  [...node.metrics.registry.render().matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, "gm"))]
    .reduce((sum, m) => sum + Number(m[1]), 0);

if (role === "sub" || role === "both") {
  node.subscribe("restart.news", (m) => out({ m: (m.payload as { seq: number }).seq }));
  await node.pubsub.whenAnnounced();
  out({ ready: node.addrs[0], at: Date.now() });
  if (role === "both") await callLoop();
} else if (role === "provider") {
  node.advertise("restart.echo", () => ({ pid: Deno.pid }));
  out({ ready: node.addrs[0], at: Date.now() });
} else if (role === "pub") {
  out({ ready: node.addrs[0], at: Date.now() });
  const count = Number(args.count);
  const gap = 1000 / Number(args.rate);
  const start = performance.now();
  let targets = 0;
  for (let seq = 1; seq <= count; seq++) {
    const wait = start + seq * gap - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    targets += (await node.publish("restart.news", { seq })).remote;
  }
  out({ published: count, targets });
  await node.pubsub.flush(20_000);
  out({
    sent: metric('macula_pubsub_messages_sent_total\\{route="direct"\\}'),
    dropped: metric("macula_pubsub_dropped_total"),
    targets,
  });
} else if (role === "caller") {
  out({ ready: node.addrs[0], at: Date.now() });
  await callLoop();
} else {
  throw new Error(`unknown role ${role}`);
}

async function callLoop() {
  const interval = Number(args.interval);
  const count = Number(args.count) || Infinity;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    try {
      const r = await node.call("restart.echo", {}, { timeout: 5_000, attemptTimeout: 1_000 }) as { pid: number };
      out({ c: performance.now() - t0, ok: true, pid: r.pid, at: Date.now() });
    } catch (error) {
      out({ c: performance.now() - t0, ok: false, error: (error as Error).message, at: Date.now() });
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
