/**
 * The remote side of `mesh_bench.ts`, run as a separate process: a node on
 * 127.0.0.1 that subscribes to `bench.>` and reports what it received, and
 * advertises the `bench.echo` procedure; plus a raw Deno QUIC echo endpoint
 * (the baseline). Prints one JSON line `{ addr, rawQuicPort, id }` and
 * serves until stdin closes.
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { Node } from "../src/api/node.ts";
import { tlsIdentity } from "../src/secure/certificate.ts";

const keyPair = KeyPair.generate();
const node = await Node.start({
  keyPair,
  host: "127.0.0.1",
  port: 0,
  transports: ["quic"],
  logger: Logger.silent(),
});

// Pub/sub sink: count messages and one-way latencies (payload starts with the send time, float64 ms).
let count = 0;
let total = 0;
let firstAt = 0;
let lastAt = 0;
let latencies: number[] = [];
node.subscribe("bench.msg", (m) => {
  const now = performance.timeOrigin + performance.now();
  if (count === 0) firstAt = now;
  lastAt = now;
  count++;
  total++;
  if (latencies.length < 20_000) {
    const p = m.payload as Uint8Array;
    latencies.push(now - new DataView(p.buffer, p.byteOffset, 8).getFloat64(0));
  }
});
node.advertise("bench.stats", () => {
  const result = { count, seconds: (lastAt - firstAt) / 1000, latencies };
  count = 0;
  latencies = [];
  return result;
});
node.advertise("bench.count", () => total);
node.advertise("bench.echo", (args) => args);

// Raw QUIC echo (baseline): one bidirectional stream, echo everything.
const tls = tlsIdentity(keyPair);
const raw = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
const listener = raw.listen({ alpnProtocols: ["bench-raw"], cert: tls.cert, key: tls.key });
(async () => {
  for await (const incoming of listener) {
    (async () => {
      const conn = await incoming.accept();
      for await (const stream of conn.incomingBidirectionalStreams) {
        stream.readable.pipeTo(stream.writable).catch(() => {});
      }
    })().catch(() => {});
  }
})();

console.log(JSON.stringify({ addr: node.addrs[0], rawQuicPort: raw.addr.port, id: node.did }));
for await (const _ of Deno.stdin.readable) {
  // serve until stdin closes
}
await node.stop();
raw.close();
Deno.exit(0);
