/**
 * Benchmarks of the links (QUIC, TCP + Noise), each figure printed next to
 * a baseline measured in the same run on the same loopback:
 *
 * 1. connection setup: `QuicTransport.dial` (TLS with pinning + in-band
 *    client auth) vs a raw `Deno.connectQuic` handshake; `TcpTransport.dial`
 *    (TCP + Noise XX + muxer) vs a raw `Deno.connect`;
 * 2. 64-byte round trip on one stream: our `Stream` vs a raw QUIC stream /
 *    a raw TCP socket;
 * 3. one-stream throughput, 64 KiB writes, receiver acknowledges the byte
 *    count at the end: our `Stream` vs raw QUIC stream / raw TCP socket.
 *
 * The receiving side runs in a child process (`links_server.ts`). Each
 * figure is the median of N runs (5, or 3 with `--quick`); inside a run,
 * setup and RTT are themselves medians over many samples. The four variants
 * are interleaved within each run so that machine noise hits them alike.
 *
 * Run: `deno run --allow-net --allow-read --allow-write --allow-env --allow-run --allow-sys --unstable-net
 * bench/links_bench.ts [--quick]`
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { NodeId } from "../src/identity/node-id.ts";
import { currentPlatform } from "../src/platform/current.ts";
import type { PeerAddress } from "../src/transport/address.ts";
import type { Connection, Stream } from "../src/transport/connection.ts";
import { QuicTransport } from "../src/transport/quic.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import type { TransportContext } from "../src/transport/transport.ts";
import { ECHO_PROTOCOL, type ServerInfo, SINK_PROTOCOL } from "./links_server.ts";
import { MODE_ECHO, MODE_SINK, rawQuicOptions } from "./raw_links.ts";
import { firstLine } from "../scripts/process.ts";

const QUICK = Deno.args.includes("--quick");
const RUNS = QUICK ? 3 : 5;
const DIAL_WARMUP = 5;
const DIALS = 50;
const RTT_WARMUP = 200;
const ROUND_TRIPS = 2000;
const MESSAGE = 64;
const MiB = 1024 * 1024;
const TOTAL = 128 * MiB;
const WARMUP_TOTAL = 32 * MiB;
const CHUNK = 64 * 1024;
const HOST = "127.0.0.1";

const source = new Uint8Array(16 * MiB);
for (let i = 0; i < source.length; i += 65536) crypto.getRandomValues(source.subarray(i, i + 65536));
const message = crypto.getRandomValues(new Uint8Array(MESSAGE));

// ---------------------------------------------------------------- helpers

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function chunkAt(i: number): Uint8Array {
  const at = (i * CHUNK) % source.length;
  return source.subarray(at, at + CHUNK);
}

function readCount(ack: Uint8Array): number {
  return Number(new DataView(ack.buffer, ack.byteOffset, 8).getBigUint64(0));
}

/** Read exactly `n` bytes from a chunk reader (`null` = EOF). */
async function readExactly(read: () => Promise<Uint8Array | null>, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const chunk = await read();
    if (chunk === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    if (got + chunk.length > n) throw new Error(`got ${got + chunk.length} bytes, expected ${n}`);
    out.set(chunk, got);
    got += chunk.length;
  }
  return out;
}

/** Read chunks until EOF. */
async function drain(read: () => Promise<Uint8Array | null>): Promise<void> {
  while ((await read()) !== null) {
    // discard
  }
}

/** Time `dial` DIALS times after DIAL_WARMUP untimed dials; the median in ms. */
async function dialMedian(dial: () => Promise<() => void>): Promise<number> {
  for (let i = 0; i < DIAL_WARMUP; i++) (await dial())();
  const times: number[] = [];
  for (let i = 0; i < DIALS; i++) {
    const start = performance.now();
    const close = await dial();
    times.push(performance.now() - start);
    close();
  }
  return median(times);
}

/** Ping-pong `message` RTT_WARMUP + ROUND_TRIPS times; the median RTT in µs. */
async function rttMedian(write: (b: Uint8Array) => Promise<void>, read: () => Promise<Uint8Array | null>) {
  const times: number[] = [];
  for (let i = 0; i < RTT_WARMUP + ROUND_TRIPS; i++) {
    const start = performance.now();
    await write(message);
    await readExactly(read, MESSAGE);
    if (i >= RTT_WARMUP) times.push(performance.now() - start);
  }
  return median(times) * 1000;
}

/** Write `total` bytes in CHUNK writes, finish, wait for the byte count; MB/s (10^6 B/s). */
async function sendMBps(
  total: number,
  write: (b: Uint8Array) => Promise<void>,
  finish: () => Promise<void>,
  read: () => Promise<Uint8Array | null>,
): Promise<number> {
  const start = performance.now();
  for (let off = 0, i = 0; off < total; off += CHUNK, i++) await write(chunkAt(i));
  await finish();
  const received = readCount(await readExactly(read, 8));
  const seconds = (performance.now() - start) / 1000;
  if (received !== total) throw new Error(`receiver counted ${received} of ${total} bytes`);
  return total / 1e6 / seconds;
}

// ---------------------------------------------------------------- the server process

async function startServer(): Promise<{ info: ServerInfo; stop: () => Promise<void> }> {
  const script = new URL("./links_server.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net", "--unstable-net", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const info = JSON.parse(await firstLine(child.stdout, "links_server")) as ServerInfo;
  return {
    info,
    async stop() {
      await child.stdin.close().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}

// ---------------------------------------------------------------- the variants

interface Variant {
  /** Dial and return a closer. */
  dial(): Promise<() => void>;
  rtt(): Promise<number>;
  throughput(total: number): Promise<number>;
}

function oursVariant(
  transport: QuicTransport | TcpTransport,
  address: PeerAddress,
  serverId: NodeId,
): Variant {
  const dial = () => transport.dial(address, serverId);
  const withStream = async <T>(protocol: string, fn: (s: Stream) => Promise<T>): Promise<T> => {
    const conn: Connection = await dial();
    try {
      const stream = await conn.openStream(protocol);
      return await fn(stream);
    } finally {
      conn.close();
    }
  };
  return {
    async dial() {
      const conn = await dial();
      return () => conn.close();
    },
    rtt: () =>
      withStream(ECHO_PROTOCOL, async (s) => {
        const us = await rttMedian((b) => s.write(b), () => s.read());
        await s.closeWrite();
        await drain(() => s.read());
        return us;
      }),
    throughput: (total) =>
      withStream(SINK_PROTOCOL, (s) => sendMBps(total, (b) => s.write(b), () => s.closeWrite(), () => s.read())),
  };
}

function rawQuicVariant(info: ServerInfo, serverId: NodeId): Variant {
  const endpoint = new Deno.QuicEndpoint({ hostname: HOST, port: 0 });
  const options = rawQuicOptions(endpoint, info.rawQuic, serverId);
  const connect = () => Deno.connectQuic(options);
  const withStream = async <T>(
    mode: number,
    fn: (
      write: (b: Uint8Array) => Promise<void>,
      finish: () => Promise<void>,
      read: () => Promise<Uint8Array | null>,
    ) => Promise<T>,
  ): Promise<T> => {
    const conn = await connect();
    try {
      const stream = await conn.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      const reader = stream.readable.getReader();
      await writer.write(Uint8Array.of(mode));
      return await fn(
        (b) => writer.write(b),
        () => writer.close(),
        async () => {
          const { done, value } = await reader.read();
          return done ? null : value;
        },
      );
    } finally {
      conn.close({ closeCode: 0, reason: "" });
    }
  };
  return {
    async dial() {
      const conn = await connect();
      return () => conn.close({ closeCode: 0, reason: "" });
    },
    rtt: () =>
      withStream(MODE_ECHO, async (write, finish, read) => {
        const us = await rttMedian(write, read);
        await finish();
        await drain(read);
        return us;
      }),
    throughput: (total) => withStream(MODE_SINK, (write, finish, read) => sendMBps(total, write, finish, read)),
  };
}

function rawTcpVariant(info: ServerInfo): Variant {
  const connect = () => Deno.connect({ hostname: info.rawTcp.host, port: info.rawTcp.port, transport: "tcp" });
  const withSocket = async <T>(
    mode: number,
    fn: (
      write: (b: Uint8Array) => Promise<void>,
      finish: () => Promise<void>,
      read: () => Promise<Uint8Array | null>,
    ) => Promise<T>,
  ): Promise<T> => {
    const conn = await connect();
    conn.setNoDelay(true); // as the platform layer does for our TCP link
    const buffer = new Uint8Array(64 * 1024);
    const write = async (data: Uint8Array) => {
      let off = 0;
      while (off < data.length) off += await conn.write(data.subarray(off));
    };
    try {
      await write(Uint8Array.of(mode));
      return await fn(write, () => conn.closeWrite(), async () => {
        const n = await conn.read(buffer);
        return n === null ? null : buffer.subarray(0, n);
      });
    } finally {
      conn.close();
    }
  };
  return {
    async dial() {
      const conn = await connect();
      return () => conn.close();
    },
    rtt: () =>
      withSocket(MODE_ECHO, async (write, finish, read) => {
        const us = await rttMedian(write, read);
        await finish();
        await drain(read);
        return us;
      }),
    throughput: (total) => withSocket(MODE_SINK, (write, finish, read) => sendMBps(total, write, finish, read)),
  };
}

// ---------------------------------------------------------------- main

type Pair = "quic" | "tcp";
type Metric = "setup" | "rtt" | "throughput";
type Side = "ours" | "raw";
const PAIRS: Pair[] = ["quic", "tcp"];
const METRICS: Metric[] = ["setup", "rtt", "throughput"];

const server = await startServer();
const clientKey = KeyPair.generate();
const clientCtx: TransportContext = {
  keyPair: clientKey,
  localId: new NodeId(clientKey.publicKey),
  gate: () => null,
  onInbound(conn) {
    conn.close("not accepting");
  },
};
const platform = currentPlatform();
const ourQuic = new QuicTransport(platform.quic!, { host: HOST, port: 0 });
const ourTcp = new TcpTransport(platform.tcp, { host: HOST, port: 0 });
await ourQuic.start(clientCtx);
await ourTcp.start(clientCtx);
const serverId = NodeId.fromDid(server.info.id);
const variants: Record<Pair, Record<Side, Variant>> = {
  quic: {
    ours: oursVariant(ourQuic, { type: "direct", kind: "quic", ...server.info.quic }, serverId),
    raw: rawQuicVariant(server.info, serverId),
  },
  tcp: {
    ours: oursVariant(ourTcp, { type: "direct", kind: "tcp", ...server.info.tcp }, serverId),
    raw: rawTcpVariant(server.info),
  },
};

const samples = {} as Record<Metric, Record<Pair, Record<Side, number[]>>>;
for (const m of METRICS) {
  samples[m] = { quic: { ours: [], raw: [] }, tcp: { ours: [], raw: [] } };
}

const progress = (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text));

try {
  // Warm-up: JIT every path once (throughput runs also warm up RTT paths' code).
  progress("warming up…");
  for (const pair of PAIRS) {
    for (const side of ["ours", "raw"] as Side[]) await variants[pair][side].throughput(WARMUP_TOTAL);
  }
  progress(" done\n");
  for (let run = 1; run <= RUNS; run++) {
    progress(`run ${run}/${RUNS}:`);
    for (const metric of METRICS) {
      for (const pair of PAIRS) {
        // Alternate which side goes first from run to run.
        const sides: Side[] = run % 2 ? ["ours", "raw"] : ["raw", "ours"];
        for (const side of sides) {
          const v = variants[pair][side];
          const value = metric === "setup"
            ? await dialMedian(() => v.dial())
            : metric === "rtt"
            ? await v.rtt()
            : await v.throughput(TOTAL);
          samples[metric][pair][side].push(value);
        }
      }
      progress(` ${metric}`);
    }
    progress("\n");
  }
} finally {
  await ourQuic.close();
  await ourTcp.close();
  await server.stop();
}

// ---------------------------------------------------------------- report

interface Row {
  label: string;
  unit: string;
  ours: number;
  raw: number;
  ratio: number;
  oursRuns: number[];
  rawRuns: number[];
  target?: string;
  pass?: boolean;
}

const LABELS: Record<Metric, { name: string; unit: string; digits: number }> = {
  setup: { name: "connection setup", unit: "ms", digits: 2 },
  rtt: { name: "64 B round trip", unit: "µs", digits: 0 },
  throughput: { name: "1-stream throughput", unit: "MB/s", digits: 0 },
};
const PAIR_NAMES: Record<Pair, { ours: string; raw: string }> = {
  quic: { ours: "QUIC", raw: "raw Deno QUIC" },
  tcp: { ours: "TCP+Noise", raw: "raw Deno TCP" },
};

const rows: Row[] = [];
for (const metric of METRICS) {
  for (const pair of PAIRS) {
    const s = samples[metric][pair];
    const ours = median(s.ours);
    const raw = median(s.raw);
    const row: Row = {
      label: `${PAIR_NAMES[pair].ours} ${LABELS[metric].name}`,
      unit: LABELS[metric].unit,
      ours,
      raw,
      ratio: ours / raw,
      oursRuns: s.ours,
      rawRuns: s.raw,
    };
    if (metric === "setup" && pair === "quic") {
      row.target = "≤ 5 ms";
      row.pass = ours <= 5;
    } else if (metric === "throughput" && pair === "quic") {
      row.target = "≥ 0.9× raw";
      row.pass = ours / raw >= 0.9;
    } else if (metric === "throughput" && pair === "tcp") {
      row.target = "≥ 150 MB/s";
      row.pass = ours >= 150;
    }
    rows.push(row);
  }
}

const fmt = (v: number, digits: number) => v.toFixed(digits);
const digitsOf = (row: Row) => Object.values(LABELS).find((l) => l.unit === row.unit)!.digits;
const table = [
  ["figure", "unit", "ours", "baseline", "ours/raw", "target", "result", "baseline is"],
  ...rows.map((r, i) => [
    r.label,
    r.unit,
    fmt(r.ours, digitsOf(r)),
    fmt(r.raw, digitsOf(r)),
    r.ratio.toFixed(2),
    r.target ?? "",
    r.pass === undefined ? "" : r.pass ? "PASS" : "MISS",
    PAIR_NAMES[PAIRS[i % 2]].raw,
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
const numeric = new Set([2, 3, 4]);
const line = (cells: string[]) =>
  cells.map((cell, c) => numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])).join("  ").trimEnd();

console.log(
  `\nMacula links bench — ${platform.runtimeVersion}, ${platform.target}, ${navigator.hardwareConcurrency} CPUs, ` +
    `loopback ${HOST}, receiver in a child process; median of ${RUNS} runs${QUICK ? " (--quick)" : ""}`,
);
console.log(
  `setup: median of ${DIALS} dials per run after ${DIAL_WARMUP} warm-up dials; RTT: median of ${ROUND_TRIPS} ` +
    `round trips per run after ${RTT_WARMUP}; throughput: ${TOTAL / MiB} MiB in ${CHUNK / 1024} KiB writes per run, ` +
    `timed until the receiver's byte count arrives; MB = 10^6 bytes`,
);
console.log("lower is better for ms and µs, higher for MB/s");
console.log();
console.log(line(table[0]));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const row of table.slice(1)) console.log(line(row));
console.log();
console.log("per-run values (ours | baseline):");
for (const r of rows) {
  const d = digitsOf(r);
  console.log(
    `  ${r.label.padEnd(widths[0])}  [${r.oursRuns.map((v) => fmt(v, d)).join(", ")}] | ` +
      `[${r.rawRuns.map((v) => fmt(v, d)).join(", ")}]`,
  );
}

const json: Record<string, unknown> = {
  runtime: platform.runtimeVersion,
  target: platform.target,
  cpus: navigator.hardwareConcurrency,
  runs: RUNS,
  quick: QUICK,
  params: {
    dials: DIALS,
    dialWarmup: DIAL_WARMUP,
    roundTrips: ROUND_TRIPS,
    rttWarmup: RTT_WARMUP,
    messageBytes: MESSAGE,
    throughputBytes: TOTAL,
    chunkBytes: CHUNK,
  },
};
for (const metric of METRICS) {
  for (const pair of PAIRS) {
    const r = rows[METRICS.indexOf(metric) * 2 + PAIRS.indexOf(pair)];
    const unit = { ms: "ms", "µs": "us", "MB/s": "mbps" }[r.unit];
    json[`${pair}_${metric}_${unit}`] = {
      ours: Number(r.ours.toFixed(3)),
      raw: Number(r.raw.toFixed(3)),
      ratio: Number(r.ratio.toFixed(3)),
      oursRuns: r.oursRuns.map((v) => Number(v.toFixed(3))),
      rawRuns: r.rawRuns.map((v) => Number(v.toFixed(3))),
      ...(r.target ? { target: r.target, pass: r.pass } : {}),
    };
  }
}
console.log(`\nBENCH_JSON ${JSON.stringify(json)}`);
