/**
 * One node of the soak test, run as its own process inside a network
 * namespace by `scripts/soak.ts`. It starts a `Node` (identity in its data
 * dir, fixed host and port, seeds), plays one role and writes JSON lines of
 * events to stdout:
 *
 * - `ready` (with `did` and `addrs`), `rss` every 2 s, `log` (the node's own
 *   log lines), `uncaught`, `violation`;
 * - publisher: `known` (subscriber nodes it knows), then after `go` on stdin
 *   `pub` batches `{ first, t: [...] }` (publish time of each seq);
 * - subscriber: `recv` batches `{ s: [...], l: [...] }` (seqs and one-way
 *   latencies), `first` (first message of this process);
 * - provider: `served` (first call of each kind served by this process);
 * - caller: after `go`, `call` per call and `probe` per probe of one provider.
 *
 * `go` and `stop` arrive on stdin; stdin closing stops the node.
 *
 * Usage: `node.ts '<json config>'` (see `SoakNodeConfig`).
 *
 * @module
 */
import { Logger, Node } from "../../mod.ts";

/** What the orchestrator tells a node. */
export interface SoakNodeConfig {
  role: "publisher" | "subscriber" | "provider" | "caller";
  index: number;
  host: string;
  port: number;
  dataDir: string;
  seeds: string[];
  /** The publisher's did (subscribers check it). */
  publisherDid?: string;
  /** Messages (publisher) or calls (caller) per second. */
  rate?: number;
  /** Host indices of the providers (the caller probes `soak.probe.h<i>` on each). */
  providers?: number[];
  /** Probes per second per provider (caller). */
  probeRate?: number;
}

const TOPIC = "soak.data";
const config = JSON.parse(Deno.args[0]) as SoakNodeConfig;
const encoder = new TextEncoder();
const now = () => Math.round((performance.timeOrigin + performance.now()) * 10) / 10;

function emit(event: Record<string, unknown>): void {
  try {
    Deno.stdout.writeSync(encoder.encode(JSON.stringify({ ...event, at: now() }) + "\n"));
  } catch {
    // the orchestrator is gone
  }
}

globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  emit({ ev: "uncaught", error: String((e.reason as Error)?.stack ?? e.reason) });
});
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  emit({ ev: "uncaught", error: String(e.error?.stack ?? e.message) });
});

const logger = new Logger({
  format: "json",
  level: "info",
  sink: (line) => {
    try {
      emit({ ev: "log", ...JSON.parse(line) });
    } catch {
      emit({ ev: "log", msg: line });
    }
  },
});

const node = await Node.start({
  dataDir: config.dataDir,
  host: config.host,
  port: config.port,
  seeds: config.seeds,
  logger,
});

const go = Promise.withResolvers<void>();
let stopping = false;
const stopped = Promise.withResolvers<void>();

setInterval(() => emit({ ev: "rss", rss: Deno.memoryUsage().rss }), 2_000);

switch (config.role) {
  case "publisher":
    publisher();
    break;
  case "subscriber":
    subscriber();
    break;
  case "provider":
    provider();
    break;
  case "caller":
    caller();
    break;
}
emit({ ev: "ready", did: node.did, addrs: node.addrs });

(async () => {
  let buffer = "";
  for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) {
      if (line === "go") go.resolve();
      if (line === "stop") stopping = true;
    }
  }
  stopping = true;
  stopped.resolve();
})();
await stopped.promise;
await node.stop().catch(() => {});
emit({ ev: "exit" });
Deno.exit(0);

/** Publish `{ seq, t }` at `rate`/s once `go` arrives; report publish times in batches. */
async function publisher(): Promise<void> {
  const rate = config.rate ?? 200;
  const known = setInterval(async () => {
    const n = await node.pubsub.ready(TOPIC, { min: 1, signal: AbortSignal.timeout(500) }).catch(() => 0);
    emit({ ev: "known", n });
  }, 1_000);
  await go.promise;
  clearInterval(known);
  const start = performance.now();
  let seq = 0;
  let first = 1;
  let times: number[] = [];
  const flush = () => {
    if (times.length) emit({ ev: "pub", first, t: times });
    first = seq + 1;
    times = [];
  };
  const flusher = setInterval(flush, 250);
  while (!stopping) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (seq < due && !stopping) {
      seq++;
      const t = now();
      times.push(t);
      try {
        await node.publish(TOPIC, { seq, t });
      } catch (error) {
        emit({ ev: "error", what: "publish", seq, error: String(error) });
      }
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  clearInterval(flusher);
  flush();
  await node.pubsub.flush(2_000).catch(() => {});
  emit({ ev: "done", published: seq });
}

/** Subscribe; report received seqs and latencies in batches, and the first message of this process. */
function subscriber(): void {
  const seen = new Set<number>();
  let s: number[] = [];
  let l: number[] = [];
  node.subscribe(TOPIC, (msg) => {
    const t = now();
    const p = msg.payload as { seq?: unknown; t?: unknown };
    if (typeof p?.seq !== "number" || typeof p?.t !== "number" || !Number.isInteger(p.seq) || p.seq < 1) {
      emit({ ev: "violation", what: "malformed payload", payload: JSON.stringify(msg.payload) });
      return;
    }
    if (config.publisherDid && msg.publisher.did !== config.publisherDid) {
      emit({ ev: "violation", what: "unexpected publisher", publisher: msg.publisher.did });
    }
    if (seen.has(p.seq)) emit({ ev: "violation", what: "duplicate delivery", seq: p.seq });
    seen.add(p.seq);
    if (seen.size === 1) emit({ ev: "first", seq: p.seq, t });
    s.push(p.seq);
    l.push(Math.round((t - p.t) * 10) / 10);
  });
  setInterval(() => {
    if (s.length) emit({ ev: "recv", s, l });
    s = [];
    l = [];
  }, 250);
}

/** Provide `soak.echo` (shared by all providers) and `soak.probe.h<index>` (this one only). */
function provider(): void {
  const first = new Set<string>();
  const serve = (kind: string) => (args: unknown) => {
    if (!first.has(kind)) emit({ ev: "served", kind, t: now() });
    first.add(kind);
    return { args, by: config.index };
  };
  node.advertise("soak.echo", serve("echo"));
  node.advertise(`soak.probe.h${config.index}`, serve("probe"));
}

/** After `go`: call `soak.echo` at `rate`/s (not waiting for earlier calls), and probe each provider. */
async function caller(): Promise<void> {
  const rate = config.rate ?? 20;
  const warm = setInterval(async () => {
    const ok = await node.call("soak.echo", { n: 0 }, { timeout: 1_000 }).then(() => true, () => false);
    emit({ ev: "warm", ok });
  }, 1_000);
  await go.promise;
  clearInterval(warm);
  const inflight = new Set<Promise<void>>();
  const one = async (n: number) => {
    const t0 = now();
    try {
      const r = await node.call("soak.echo", { n }, { timeout: 5_000 }) as { args?: { n?: number }; by?: number };
      if (r?.args?.n !== n) emit({ ev: "violation", what: "wrong RPC result", n, result: JSON.stringify(r) });
      emit({ ev: "call", n, t0, t1: now(), ok: true, by: r?.by });
    } catch (error) {
      emit({ ev: "call", n, t0, t1: now(), ok: false, error: `${(error as Error).name}: ${(error as Error).message}` });
    }
  };
  const probeLoop = async (p: number) => {
    const period = 1000 / (config.probeRate ?? 4);
    while (!stopping) {
      const t0 = now();
      const ok = await node.call(`soak.probe.h${p}`, null, { timeout: 2_000 }).then(() => true, () => false);
      emit({ ev: "probe", p, t0, t1: now(), ok });
      await new Promise((r) => setTimeout(r, Math.max(0, period - (now() - t0))));
    }
  };
  const probes = (config.providers ?? []).map(probeLoop);
  const start = performance.now();
  let n = 0;
  while (!stopping) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (n < due) {
      const p = one(++n);
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all([...inflight, ...probes]);
  emit({ ev: "done", calls: n });
}
