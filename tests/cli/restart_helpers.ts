/**
 * Test helper: run `tests/cli/restart_peer.ts` nodes as real processes,
 * collect their JSON lines with arrival times, kill them and start them
 * again with the same identity, data dir and port.
 */
const ROOT = new URL("../../", import.meta.url).pathname;

/** One line a peer process printed, with the time it arrived here. */
export interface Line {
  at: number;
  // deno-lint-ignore no-explicit-any
  v: any;
}

/** A running peer process. */
export interface Peer {
  lines: Line[];
  err: string[];
  /** Resolves with the first `{ready}` line. */
  ready: Promise<Line>;
  kill(): Promise<void>;
  done: Promise<Deno.CommandStatus>;
}

/** A port free for both UDP and TCP on 127.0.0.1. */
export function freePort(): number {
  for (let i = 0; i < 50; i++) {
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (tcp.addr as Deno.NetAddr).port;
    try {
      Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
      return port;
    } catch {
      // taken for UDP: try another
    } finally {
      tcp.close();
    }
  }
  throw new Error("no free port");
}

/** Start `restart_peer.ts <role> <args>`. */
export function spawnPeer(role: string, args: string[], env: Record<string, string> = {}): Peer {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", "tests/cli/restart_peer.ts", role, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: Line[] = [];
  const err: string[] = [];
  const ready = Promise.withResolvers<Line>();
  const read = async (stream: ReadableStream<Uint8Array>, each: (line: string) => void) => {
    let buffer = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const p of parts) each(p);
    }
  };
  const done = Promise.all([
    read(child.stdout, (l) => {
      const line = { at: Date.now(), v: JSON.parse(l) };
      lines.push(line);
      if (line.v.ready) ready.resolve(line);
    }),
    read(child.stderr, (l) => err.push(l)),
  ]).then(() => child.status);
  done.then(() => ready.reject(new Error(`${role} exited before it was ready:\n${err.join("\n")}`)));
  ready.promise.catch(() => {});
  return {
    lines,
    err,
    ready: ready.promise,
    done,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await done;
    },
  };
}

/** A scratch directory under `.macula/`. */
export async function scratch(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = `${ROOT}.macula/restart-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(path, { recursive: true });
  return { path, cleanup: () => Deno.remove(path, { recursive: true }).catch(() => {}) };
}

/** Wait for `predicate`, at most `ms`. */
export async function waitFor(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The `p`-quantile of `values`. */
export function quantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}
