/**
 * NAT pre-opening on `node:dgram` (which both Deno and Node provide): bind
 * a UDP socket on a chosen local port, send one small datagram with a
 * limited TTL to each target, close the socket, and report the port. Used
 * before a QUIC endpoint binds the same port (a QUIC endpoint cannot share
 * its port with another socket), so the NAT in front of us already holds a
 * mapping towards the peer when the peer's first packet arrives.
 *
 * @module
 */
import type dgram from "node:dgram";
import type { UdpPreopenOptions } from "./types.ts";

/** `node:dgram`, loaded on first use: a node that never punches never loads it (see tests/platform/module_graph_test.ts). */
let dgramModule: Promise<typeof dgram> | undefined;

/** The bytes sent: short, recognisable in a capture, meaningless to a QUIC stack. */
const PROBE = new TextEncoder().encode("macula-preopen");

function bindSocket(socket: dgram.Socket, hostname: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: hostname, port, exclusive: true }, () => {
      socket.off("error", reject);
      resolve();
    });
  });
}

function sendOne(socket: dgram.Socket, port: number, hostname: string): Promise<void> {
  return new Promise((resolve) => socket.send(PROBE, port, hostname, () => resolve()));
}

/**
 * Bind `options.hostname:options.port` (0 = any free port), send one
 * datagram with TTL `options.ttl` to each of `options.to`, close, and
 * resolve with the port that was bound. Send errors (no route) are
 * ignored; a bind error (port taken) rejects.
 *
 * @example
 * ```ts
 * import { preopenUdp } from "./udp-preopen.ts";
 * const port = await preopenUdp({ hostname: "127.0.0.1", port: 0, to: [{ hostname: "127.0.0.1", port: 9 }], ttl: 2 });
 * console.log(port > 0); // true: the port is free again, ready for a QUIC endpoint
 * ```
 */
export async function preopenUdp(options: UdpPreopenOptions): Promise<number> {
  const v6 = options.hostname.includes(":");
  const { createSocket } = await (dgramModule ??= import("node:dgram").then((m) => m.default));
  const socket = createSocket({ type: v6 ? "udp6" : "udp4" });
  socket.on("error", () => {}); // send errors reach the send callback; nothing else may crash the process
  try {
    await bindSocket(socket, options.hostname, options.port);
    const port = socket.address().port;
    if (options.to.length > 0) {
      socket.setTTL(options.ttl);
      for (const target of options.to) await sendOne(socket, target.port, target.hostname);
    }
    return port;
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
