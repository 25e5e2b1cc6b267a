/**
 * Builds the links a node listens on from its options.
 *
 * @module
 */
import type { Platform } from "../platform/types.ts";
import { MemoryTransport } from "../transport/memory.ts";
import { QuicTransport } from "../transport/quic.ts";
import type { TransportKind } from "../transport/session.ts";
import { TcpTransport } from "../transport/tcp.ts";
import type { Transport, TransportContext } from "../transport/transport.ts";
import { DEFAULT_PORT, ListenError, type NodeOptions } from "./options.ts";

/** The transports of a node, by kind (QUIC only where the runtime has it). */
export function createTransports(
  options: NodeOptions,
  platform: Platform,
  ctx: TransportContext,
): Map<TransportKind, Transport> {
  const host = options.host ?? "0.0.0.0";
  const port = options.port ?? DEFAULT_PORT;
  const kinds = options.transports ?? (options.memory ? [] : ["quic", "tcp"]);
  const transports = new Map<TransportKind, Transport>();
  for (const kind of kinds) {
    if (kind === "quic") {
      if (!platform.quic) {
        if (options.transports) throw new ListenError(`QUIC is not available on ${platform.runtimeVersion}`);
        continue;
      }
      transports.set("quic", new QuicTransport(platform.quic, ctx, { host, port }));
    } else if (kind === "tcp") {
      transports.set("tcp", new TcpTransport(platform.tcp, ctx, { host, port }));
    } else {
      throw new TypeError(`unknown transport ${JSON.stringify(kind)}; use "quic" or "tcp"`);
    }
  }
  if (options.memory) {
    transports.set("memory", new MemoryTransport(options.memory.network, ctx, options.memory.name));
  }
  if (transports.size === 0) throw new ListenError("no transport to listen on");
  return transports;
}
