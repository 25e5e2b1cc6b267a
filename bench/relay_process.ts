/**
 * The relay of `relay_bench.ts`, in a process of its own so that its CPU
 * time can be read from /proc: a TCP-only node on 127.0.0.1 serving as a
 * relay for anyone, with the rate limits given on the command line
 * (`--unlimited`: none), over TCP (`--quic`: QUIC). Prints `{"addr": …}` on stdout once listening.
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { Node } from "../src/api/node.ts";

const unlimited = Deno.args.includes("--unlimited");
const link = Deno.args.includes("--quic") ? "quic" : "tcp";
const node = await Node.start({
  keyPair: KeyPair.generate(),
  host: "127.0.0.1",
  port: 0,
  transports: [link],
  logger: Logger.silent(),
  relay: { serve: true, realms: "*", limits: unlimited ? { circuitRate: 0, totalRate: 0 } : {} },
});
node.expose("echo", (_from, x) => x); // for the bench's "relay hop" baseline
const addr = node.addrs.find((a) => a.startsWith(`${link}://`));
console.log(JSON.stringify({ addr }));
await new Promise(() => {});
