/**
 * Reboots, measured: a node that subscribes and calls (`both` role of
 * `tests/cli/restart_peer.ts`) is SIGKILLed and started again with the same
 * identity, data dir and port, `--restarts` times (default 20), `--down` ms
 * later (default 5 000, as in the soak). A publisher (100 msg/s) and an RPC
 * provider stay up. Prints, per restart and as p50 / max, the time from the
 * restarted node being ready to its first message and to its first
 * successful RPC, and ends with `BENCH_JSON {...}`.
 *
 * ```sh
 * deno task bench:restart [--restarts 20] [--down 5000]
 * ```
 *
 * @module
 */
import { freePort, quantile, scratch, spawnPeer, waitFor } from "../tests/cli/restart_helpers.ts";

const flag = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const restarts = flag("restarts", 20);
const down = flag("down", 5_000);
const dir = await scratch();
const pub = spawnPeer("pub", [
  "--data-dir",
  `${dir.path}/pub`,
  "--port",
  `${freePort()}`,
  "--count",
  "1e9",
  "--rate",
  "100",
]);
const seed = (await pub.ready).v.ready as string;
const provider = spawnPeer("provider", ["--data-dir", `${dir.path}/prov`, "--port", `${freePort()}`, "--seed", seed]);
await provider.ready;
const args = ["--data-dir", `${dir.path}/node`, "--port", `${freePort()}`, "--seed", seed, "--interval", "20"];
let node = spawnPeer("both", args);
const firstMessage: number[] = [];
const firstCall: number[] = [];
try {
  await node.ready;
  const current = () => node;
  await waitFor(() => current().lines.some((l) => l.v.ok) && current().lines.some((l) => l.v.m), 30_000, "warm-up");
  for (let i = 1; i <= restarts; i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    await node.kill();
    await new Promise((r) => setTimeout(r, down));
    node = spawnPeer("both", args);
    const ready = (await node.ready).at;
    await waitFor(() => current().lines.some((l) => l.v.ok) && current().lines.some((l) => l.v.m), 60_000, "back");
    const m = node.lines.find((l) => l.v.m)!.at - ready;
    const c = node.lines.find((l) => l.v.ok)!.at - ready;
    firstMessage.push(m);
    firstCall.push(c);
    console.log(`restart ${i}: first message ${m} ms, first successful RPC ${c} ms after ready`);
  }
} finally {
  await Promise.all([node.kill(), pub.kill(), provider.kill()]);
  await dir.cleanup();
}
const summary = (v: number[]) => ({ p50: quantile(v, 0.5), max: Math.max(...v) });
const result = { restarts, down_ms: down, first_message_ms: summary(firstMessage), first_rpc_ms: summary(firstCall) };
console.log(
  `ready -> first message: p50 ${result.first_message_ms.p50} ms, max ${result.first_message_ms.max} ms; ` +
    `ready -> first successful RPC: p50 ${result.first_rpc_ms.p50} ms, max ${result.first_rpc_ms.max} ms`,
);
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
