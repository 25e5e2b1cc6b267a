/**
 * Start a `macula start` process (any build: `deno run main.ts`, a single
 * executable, natively or under qemu), wait until its status endpoint is
 * listening, and measure it. Used by the tests and the binaries benchmark.
 *
 * @module
 */

/** A running `macula start`. */
export interface MaculaProcess {
  child: Deno.ChildProcess;
  /** The HTTP status port it reported. */
  healthPort: number;
  /** Milliseconds from spawn until `GET /ready` answers 200. */
  readyMs: number;
  /** stderr lines so far. */
  lines: string[];
  /** GET a status path as JSON. */
  get(path: string): Promise<unknown>;
  /** Resident set size of the process (kB), from /proc; `null` once gone. */
  rssKb(): Promise<number | null>;
  /** Send a signal and wait for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

const READY = [
  /status endpoint listening url=http:\/\/(?:\[[^\]]+\]|[^:/\s]+):(\d+)\/status/,
  /"url":"http:\/\/(?:\[[^\]]+\]|[^:/"]+):(\d+)\/status"/,
];

/**
 * Spawn `argv` (a full command line ending in `start …`) and resolve once
 * the node logged its status URL and answers `GET /ready` (rejects with its
 * log if it exits first or takes longer than `timeoutMs`).
 *
 * @example
 * ```ts
 * import { launch } from "./launch.ts";
 * const node = await launch(["./dist/macula-0.1.0-linux-x86_64", "start", "--port", "0", "--health-port", "0"]);
 * console.log(node.readyMs, await node.get("/status"));
 * await node.stop("SIGTERM");
 * ```
 */
export async function launch(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<MaculaProcess> {
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  child.stdout.cancel();
  const lines: string[] = [];
  let healthPort = 0;
  let readyMs = 0;
  const ready = Promise.withResolvers<void>();
  (async () => {
    let buffer = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const m = READY.map((r) => r.exec(line)).find((x) => x);
        if (m && !healthPort) {
          healthPort = Number(m[1]);
          ready.resolve();
        }
      }
    }
    ready.reject(new Error(`${argv.join(" ")} exited before it was ready:\n${lines.join("\n")}`));
  })();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const timer = setTimeout(
    () => ready.reject(new Error(`${argv.join(" ")} not ready after ${timeoutMs} ms:\n${lines.join("\n")}`)),
    timeoutMs,
  );
  try {
    await ready.promise;
    // One answered request proves the node is serving, not just logging.
    while (true) {
      try {
        const res = await fetch(`http://127.0.0.1:${healthPort}/ready`, { signal: AbortSignal.timeout(5_000) });
        await res.body?.cancel();
        if (res.ok) break;
      } catch (error) {
        if (performance.now() - started > timeoutMs) throw error;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    readyMs = performance.now() - started;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    child,
    healthPort,
    readyMs,
    lines,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${healthPort}${path}`);
      return await res.json();
    },
    async rssKb() {
      // Deno wants --allow-all for /proc/<pid>; `cat` needs only --allow-run.
      const out = await new Deno.Command("cat", { args: [`/proc/${child.pid}/status`], stderr: "null" }).output();
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(new TextDecoder().decode(out.stdout));
      return out.success && m ? Number(m[1]) : null;
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      return (await child.status).code;
    },
  };
}
