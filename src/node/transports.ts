/**
 * Builds the links a node uses from its options: the built-in names
 * (`"quic"`, `"tcp"`) become transports listening on `host:port`,
 * `Transport` objects are taken as they are, and `memory` adds an
 * in-memory transport.
 *
 * @module
 */
import type { Platform } from "../platform/types.ts";
import { isTransportName } from "../transport/address.ts";
import { MemoryTransport } from "../transport/memory.ts";
import { QuicTransport } from "../transport/quic.ts";
import { TcpTransport } from "../transport/tcp.ts";
import type { Transport } from "../transport/transport.ts";
import { DEFAULT_PORT, ListenError, type NodeOptions } from "./options.ts";

/**
 * The transports of a node, not started yet (QUIC only where the runtime
 * has it, unless asked for by name). Throws `TypeError` for an unknown
 * name, a badly named transport or two transports of one kind.
 *
 * @example
 * ```ts
 * import { createTransports } from "./transports.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const transports = createTransports({ transports: ["tcp"], port: 0 }, currentPlatform());
 * transports.map((t) => t.kind); // ["tcp"]
 * ```
 */
export function createTransports(options: NodeOptions, platform: Platform): Transport[] {
  const host = options.host ?? "0.0.0.0";
  const port = options.port ?? DEFAULT_PORT;
  const wanted = options.transports ?? (options.memory ? [] : ["quic", "tcp"] as const);
  const transports: Transport[] = [];
  const add = (t: Transport) => {
    if (!isTransportName(t.kind)) {
      throw new TypeError(`invalid transport name ${JSON.stringify(t.kind)}: expected [a-z][a-z0-9+.-]*`);
    }
    if (transports.some((x) => x.kind === t.kind)) throw new TypeError(`two transports named ${t.kind}`);
    transports.push(t);
  };
  for (const entry of wanted) {
    if (typeof entry === "object" && entry !== null) {
      add(entry);
    } else if (entry === "quic") {
      if (!platform.quic) {
        if (options.transports) throw new ListenError(`QUIC is not available on ${platform.runtimeVersion}`);
        continue;
      }
      add(new QuicTransport(platform.quic, { host, port }));
    } else if (entry === "tcp") {
      add(new TcpTransport(platform.tcp, { host, port }));
    } else {
      throw new TypeError(`unknown transport ${JSON.stringify(entry)}; use "quic", "tcp" or a Transport object`);
    }
  }
  if (options.memory) add(new MemoryTransport(options.memory.network, options.memory.name));
  if (transports.length === 0) throw new ListenError("no transport to listen on");
  for (const extra of options.addTransports ?? []) add(extra);
  return transports;
}
