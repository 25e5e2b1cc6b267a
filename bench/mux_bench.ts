/**
 * Single-stream throughput of the `Muxer` over an in-memory duplex pipe,
 * against the raw pipe itself as the baseline (same run, same chunk size,
 * same pipe bound). Median of 5 runs each, after one warm-up run each.
 *
 * The raw pipe hands chunks over by reference, so it measures promise
 * overhead only; the muxer copies every byte once (into its coalesced
 * writes). A second baseline, the raw pipe with one copy per chunk, shows
 * how much of the gap that copy explains.
 *
 * Run: `deno run --allow-all bench/mux_bench.ts [MiB per run, default 256] [chunk KiB, default 64]`
 *
 * @module
 */
import { Muxer } from "../src/transport/mux/muxer.ts";
import type { ByteStream } from "../src/transport/stream.ts";
import { duplexPipe } from "../tests/helpers/mux_pipe.ts";

const MiB = 1024 * 1024;
const total = Number(Deno.args[0] ?? 256) * MiB;
const chunkSize = Number(Deno.args[1] ?? 64) * 1024;
const PIPE_BOUND = 1 * MiB;
const RUNS = 5;

const source = new Uint8Array(16 * MiB + chunkSize);
for (let i = 0; i < source.length; i += 65536) {
  crypto.getRandomValues(source.subarray(i, i + 65536));
}

interface Sink {
  write(chunk: Uint8Array): Promise<void>;
}
interface Source {
  read(): Promise<Uint8Array | null>;
}

/** Push `total` bytes through `sink` and drain them from `source`; returns MB/s. */
async function transfer(
  sink: Sink,
  source_: Source,
  finish: () => Promise<void>,
): Promise<number> {
  const start = performance.now();
  const reader = (async () => {
    let n = 0;
    while (n < total) {
      const chunk = await source_.read();
      if (chunk === null) break;
      n += chunk.length;
    }
    return n;
  })();
  for (let off = 0, i = 0; off < total; off += chunkSize, i++) {
    const at = (i * chunkSize) % (16 * MiB);
    await sink.write(source.subarray(at, at + chunkSize));
  }
  await finish();
  const received = await reader;
  const seconds = (performance.now() - start) / 1000;
  if (received !== total) {
    throw new Error(`received ${received} of ${total} bytes`);
  }
  return total / 1e6 / seconds;
}

async function rawRun(): Promise<number> {
  const [a, b] = duplexPipe({ bound: PIPE_BOUND });
  const mbps = await transfer(a, b, () => Promise.resolve());
  a.close();
  b.close();
  return mbps;
}

async function copyRun(): Promise<number> {
  const [a, b] = duplexPipe({ bound: PIPE_BOUND });
  const copying: Sink = { write: (chunk) => a.write(chunk.slice()) };
  const mbps = await transfer(copying, b, () => Promise.resolve());
  a.close();
  b.close();
  return mbps;
}

async function muxRun(): Promise<number> {
  const [a, b] = duplexPipe({ bound: PIPE_BOUND });
  const client = new Muxer(a, { initiator: true });
  const inbound = Promise.withResolvers<ByteStream>();
  const server = new Muxer(b, {
    initiator: false,
    onStream: (s) => inbound.resolve(s),
  });
  const stream = await client.openStream();
  await stream.write(new Uint8Array(1)); // make the peer see the stream
  const remote = await inbound.promise;
  await remote.read();
  const mbps = await transfer(stream, remote, () => stream.closeWrite());
  client.close();
  server.close();
  await Promise.all([client.closed, server.closed]);
  return mbps;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

await rawRun(); // warm-up
await copyRun();
await muxRun();
const raw: number[] = [];
const copy: number[] = [];
const mux: number[] = [];
for (let i = 0; i < RUNS; i++) {
  raw.push(await rawRun());
  copy.push(await copyRun());
  mux.push(await muxRun());
}
const fmt = (v: number) => v.toFixed(0);
console.log(
  `runs (MB/s): mux [${mux.map(fmt).join(", ")}], raw pipe [${raw.map(fmt).join(", ")}], ` +
    `raw pipe + copy [${copy.map(fmt).join(", ")}]`,
);
const m = median(mux);
const r = median(raw);
console.log(
  `mux one-stream throughput: ${fmt(m)} MB/s (raw pipe ${fmt(r)} MB/s, ratio ${(m / r).toFixed(2)}) ` +
    `[${total / MiB} MiB per run, ${chunkSize / 1024} KiB writes, median of ${RUNS}]`,
);
console.log(
  `raw pipe with one copy per chunk: ${fmt(median(copy))} MB/s (mux ratio ${(m / median(copy)).toFixed(2)})`,
);
