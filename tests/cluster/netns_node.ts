/**
 * Test helper, run inside a network namespace by `security_netns_test.ts`.
 *
 * - `node <addr> <offsetMs> <secret>`: a node clustering on `<addr>` whose
 *   whole process wall clock (`Date.now`, so its node record and anything
 *   else that reads it) is `offsetMs` off, as on a board without an RTC.
 *   Prints JSON lines: `{ev: "ready", did}`, then `{ev: "status", alive,
 *   downs, endpoints, dropped, at}` every 250 ms (`at` is the real time).
 * - `flood <host:port> <secret> <count>`: a secret holder floods a SWIM port
 *   with `count` validly MAC'd and signed datagrams from one key: new boot
 *   epochs, counters near 2^53, and (for the design before this one) a
 *   timestamp 29 s ahead. Prints `{ev: "flooded", sent}`.
 */
import { ClusterService } from "../../src/cluster/service.ts";
import * as envelope from "../../src/cluster/envelope.ts";
import { ClusterKey } from "../../src/cluster/hmac.ts";
import { encodeMessage } from "../../src/cluster/messages.ts";
import { Node } from "../../src/api/node.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";
import { Logger } from "../../src/log/logger.ts";

const realNow = Date.now.bind(Date);
const print = (value: unknown) => console.log(JSON.stringify({ ...value as object, at: realNow() }));
const [mode, ...args] = Deno.args;

if (mode === "node") {
  const [addr, offset, secret] = [args[0], Number(args[1]), args[2]];
  Date.now = () => realNow() + offset;
  const cluster = new ClusterService({ secret, interfaces: [addr], host: addr });
  let downs = 0;
  const node = await Node.start({
    keyPair: KeyPair.generate(),
    host: addr,
    port: 0,
    transports: ["tcp"],
    logger: Logger.silent(),
    services: [cluster],
  });
  node.on("peer:down", () => downs++);
  print({ ev: "ready", did: node.id.did });
  setInterval(() => {
    const s = cluster.status();
    print({
      ev: "status",
      alive: cluster.members().filter((m) => m.state === "alive").length,
      downs,
      endpoints: s.endpoints,
      dropped: s.dropped,
    });
  }, 250);
} else if (mode === "flood") {
  const [target, secret, count] = [args[0], args[1], Number(args[2])];
  const [hostname, port] = target.split(":");
  const key = ClusterKey.fromSecret(secret);
  const signer = signerOf(KeyPair.generate());
  const body = encodeMessage({ type: "gossip", updates: [] });
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  // Looked up at run time so that this script also runs against the previous design (no `Stamper`, a `now`).
  const Stamper = (envelope as Record<string, unknown>).Stamper as
    | (new (o: { start: number }) => envelope.Stamper)
    | undefined;
  let stamper: envelope.Stamper | undefined;
  let sent = 0;
  for (let i = 0; i < count; i++) {
    if (i % 16 === 0 && Stamper) stamper = new Stamper({ start: Number.MAX_SAFE_INTEGER - 2 * count + i });
    // `now` is what the previous design stamped (29 s ahead: inside its skew); this design has no such field.
    const options: Record<string, unknown> = { key, stamper, now: realNow() + 29_000 };
    const bytes = envelope.sealEnvelope(signer, body, options as Parameters<typeof envelope.sealEnvelope>[2]);
    await socket.send(bytes, { transport: "udp", hostname, port: Number(port) });
    sent++;
  }
  socket.close();
  print({ ev: "flooded", sent });
} else {
  console.error("usage: netns_node.ts node <addr> <offsetMs> <secret> | flood <host:port> <secret> <count>");
  Deno.exit(2);
}
