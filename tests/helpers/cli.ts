/**
 * Test helper: run the real `macula` CLI (main.ts) as child processes under
 * exactly the permission set `deno task start` declares in deno.json.
 */
const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The `deno run` flags of the `macula` task (the one declared permission set; `start` runs it). */
export function startPermissions(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  const task: string = config.tasks.macula;
  const tokens = task.split(/\s+/);
  const from = tokens.indexOf("run") + 1;
  const to = tokens.indexOf("main.ts");
  if (from <= 0 || to < from) throw new Error(`cannot read permissions from the macula task: ${task}`);
  return tokens.slice(from, to);
}

/** A scratch directory under `.macula/` (inside the declared read/write scope). */
export async function scratchDir(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = `.macula/test-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(`${ROOT}/${path}`, { recursive: true });
  return { path, cleanup: () => Deno.remove(`${ROOT}/${path}`, { recursive: true }).catch(() => {}) };
}

/** Run a one-shot CLI command to completion. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; permissions?: string[] } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.permissions ?? startPermissions()), "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A `macula start` child process. */
export interface NodeProcess {
  child: Deno.ChildProcess;
  /** The HTTP status port it reported. */
  healthPort: number;
  /** stderr lines so far. */
  lines: string[];
  /** GET a status path as JSON. */
  get(path: string): Promise<unknown>;
  /** Send a signal and wait for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Start `macula start <args>` and wait until its status endpoint answers. */
export async function startNode(args: string[], options: { env?: Record<string, string> } = {}): Promise<NodeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...startPermissions(),
      "main.ts",
      "start",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--health-port",
      "0",
      ...args,
    ],
    cwd: ROOT,
    // Clustering is off unless a test turns it on, so test nodes do not find each other over loopback multicast.
    env: { NO_COLOR: "1", CLUSTER_STRATEGY: "off", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  child.stdout.cancel();
  const lines: string[] = [];
  let healthPort = 0;
  const ready = Promise.withResolvers<void>();
  (async () => {
    const decoder = new TextDecoderStream();
    let buffer = "";
    for await (const text of child.stderr.pipeThrough(decoder)) {
      buffer += text;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const m = /status endpoint listening url=http:\/\/127\.0\.0\.1:(\d+)\/status/.exec(line) ??
          /"url":"http:\/\/127\.0\.0\.1:(\d+)\/status"/.exec(line);
        if (m) {
          healthPort = Number(m[1]);
          ready.resolve();
        }
      }
    }
    ready.reject(new Error(`node exited before it was ready:\n${lines.join("\n")}`));
  })();
  const timer = setTimeout(() => ready.reject(new Error(`node not ready after 30 s:\n${lines.join("\n")}`)), 30_000);
  try {
    await ready.promise;
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
    lines,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${healthPort}${path}`);
      return await res.json();
    },
    async stop(signal: Deno.Signal = "SIGINT") {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      return (await child.status).code;
    },
  };
}
