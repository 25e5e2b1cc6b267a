/**
 * Tiny UDP/TCP probe for the NAT lab (`nat_lab.ts`), run inside a namespace
 * with `deno run --allow-net nat_probe.ts <command> …`. Every result is one
 * JSON line on stdout. Commands:
 *
 * - `echo <host> <port>`: UDP and TCP server on host:port; answers every
 *   datagram / connection with the address it sees (`"ip:port"`). Prints
 *   `{"ready":true}` once listening, then runs until killed.
 * - `ask udp|tcp <host:port>… [--local-port N] [--timeout ms]`: asks each
 *   target (UDP: from ONE socket, so from one local port) and prints
 *   `{"results":[{"target","observed"}|{"target","error"}]}`.
 * - `send <host:port> [--local-port N] [--ttl N]`: one UDP datagram, prints `{"sent":true}`.
 * - `listen udp|tcp <port> [--timeout ms]`: prints `{"ready":true}`, then
 *   `{"from":"ip:port"}` for the first datagram / connection or `{"error":"timeout"}`.
 * - `get <url>`: prints the body of an HTTP GET (exit code 1 unless 2xx).
 *
 * @module
 */
import dgram from "node:dgram";

function out(value: unknown): void {
  console.log(JSON.stringify(value));
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function positional(args: string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith("--")) i++;
    else result.push(args[i]);
  }
  return result;
}

function split(target: string): { host: string; port: number } {
  const at = target.lastIndexOf(":");
  return { host: target.slice(0, at), port: Number(target.slice(at + 1)) };
}

function udpSocket(localPort: number, ttl?: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(localPort, "0.0.0.0", () => {
      if (ttl !== undefined) socket.setTTL(ttl);
      resolve(socket);
    });
  });
}

async function echo(host: string, port: number): Promise<void> {
  const udp = await udpSocket(port);
  udp.on("message", (_msg, rinfo) => udp.send(`${rinfo.address}:${rinfo.port}`, rinfo.port, rinfo.address));
  const tcp = Deno.listen({ hostname: host, port });
  out({ ready: true });
  for await (const conn of tcp) {
    const remote = conn.remoteAddr as Deno.NetAddr;
    conn.write(new TextEncoder().encode(`${remote.hostname}:${remote.port}`)).finally(() => conn.close());
  }
}

async function askUdp(targets: string[], localPort: number, timeout: number): Promise<unknown[]> {
  const socket = await udpSocket(localPort);
  const results: unknown[] = [];
  try {
    for (const target of targets) {
      const { host, port } = split(target);
      const reply = new Promise<string>((resolve) => {
        const onMessage = (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
          if (rinfo.address !== host || rinfo.port !== port) return;
          socket.off("message", onMessage);
          resolve(new TextDecoder().decode(msg));
        };
        socket.on("message", onMessage);
        setTimeout(() => {
          socket.off("message", onMessage);
          resolve("");
        }, timeout);
      });
      socket.send("?", port, host);
      const observed = await reply;
      results.push(observed ? { target, observed } : { target, error: "timeout" });
    }
  } finally {
    socket.close();
  }
  return results;
}

async function askTcp(targets: string[], timeout: number): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const target of targets) {
    const { host, port } = split(target);
    const signal = AbortSignal.timeout(timeout);
    try {
      const conn = await Deno.connect({ hostname: host, port, signal } as Deno.ConnectOptions);
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(128);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        chunks.push(buf.slice(0, n));
      }
      conn.close();
      results.push({ target, observed: new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))) });
    } catch (error) {
      results.push({ target, error: signal.aborted ? "timeout" : (error as Error).message });
    }
  }
  return results;
}

async function listen(proto: string, port: number, timeout: number): Promise<void> {
  const timer = (resolve: (v: string) => void) => setTimeout(() => resolve(""), timeout);
  let from: string;
  if (proto === "udp") {
    const socket = await udpSocket(port);
    out({ ready: true });
    from = await new Promise<string>((resolve) => {
      const t = timer(resolve);
      socket.once("message", (_m, rinfo) => {
        clearTimeout(t);
        resolve(`${rinfo.address}:${rinfo.port}`);
      });
    });
    socket.close();
  } else {
    const listener = Deno.listen({ hostname: "0.0.0.0", port });
    out({ ready: true });
    from = await new Promise<string>((resolve) => {
      const t = timer(resolve);
      listener.accept().then((conn) => {
        clearTimeout(t);
        const remote = conn.remoteAddr as Deno.NetAddr;
        conn.close();
        resolve(`${remote.hostname}:${remote.port}`);
      }, () => resolve(""));
    });
    listener.close();
  }
  out(from ? { from } : { error: "timeout" });
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  const args = positional(rest);
  const timeout = flag(rest, "--timeout", 2000);
  const localPort = flag(rest, "--local-port", 0);
  if (command === "echo") {
    await echo(args[0], Number(args[1]));
  } else if (command === "ask") {
    const [proto, ...targets] = args;
    out({ results: proto === "udp" ? await askUdp(targets, localPort, timeout) : await askTcp(targets, timeout) });
  } else if (command === "send") {
    const socket = await udpSocket(localPort, rest.includes("--ttl") ? flag(rest, "--ttl", 64) : undefined);
    const { host, port } = split(args[0]);
    await new Promise<void>((resolve, reject) => socket.send("!", port, host, (e) => e ? reject(e) : resolve()));
    socket.close();
    out({ sent: true });
  } else if (command === "get") {
    const res = await fetch(args[0], { signal: AbortSignal.timeout(timeout) });
    console.log(await res.text());
    if (!res.ok) Deno.exit(1);
  } else if (command === "listen") {
    await listen(args[0], Number(args[1]), timeout);
  } else {
    console.error("usage: nat_probe.ts echo|ask|send|listen|get …");
    Deno.exit(2);
  }
}
