/**
 * Test helper: run the real `macula` CLI (main.ts) as child processes under
 * exactly the permission set `deno task start` declares in deno.json.
 */
import { launch, type MaculaProcess } from "../../cross-compile/launch.ts";
import { forEachLine } from "../../scripts/process.ts";

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

/** A `macula start` child process (see `cross-compile/launch.ts`). */
export type NodeProcess = MaculaProcess;

/** Start `macula start <args>` (loopback, free ports) and wait until its status endpoint answers. */
export function startNode(args: string[], options: { env?: Record<string, string> } = {}): Promise<NodeProcess> {
  return launch(
    [
      Deno.execPath(),
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
    {
      cwd: ROOT,
      // Clustering is off unless a test turns it on, so test nodes do not find each other over loopback multicast.
      env: { CLUSTER_STRATEGY: "off", ...options.env },
      timeoutMs: 30_000,
    },
  );
}

/** A CLI command running in the background, with its output lines as they arrive. */
export interface CliProcess {
  child: Deno.ChildProcess;
  /** stdout lines so far. */
  out: string[];
  /** stderr lines so far. */
  err: string[];
  /** Resolves with the exit status once both outputs ended. */
  done: Promise<Deno.CommandStatus>;
}

/** Spawn `macula <args>` (the declared permission set) and collect its output lines as they arrive. */
export function spawnCli(args: string[]): CliProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...startPermissions(), "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  const err: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>, into: string[]) => {
    let buffer = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      into.push(...lines);
    }
    if (buffer) into.push(buffer);
  };
  const done = Promise.all([collect(child.stdout, out), collect(child.stderr, err)]).then(() => child.status);
  return { child, out, err, done };
}

/** Wait until `predicate` holds, at most `ms`; the error names `what` and adds `detail()`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  detail: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Follow a `macula start --log-format json` process's log on `stderr`:
 * every line goes to `node.logs` (with `at` when `stamp`), the "node
 * started" line sets `node.did`. Resolves once the status endpoint
 * listens; rejects with the log if the process ends first, or after 60 s.
 * `where` names the node in errors.
 */
export async function followStartLog(
  stderr: ReadableStream<Uint8Array>,
  node: { logs: Array<Record<string, unknown>>; did: string },
  where: string,
  options: { stamp?: boolean } = {},
): Promise<void> {
  const ready = Promise.withResolvers<void>();
  forEachLine(stderr, (line) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = { msg: line };
    }
    node.logs.push(options.stamp ? { ...entry, at: Date.now() } : entry);
    if (entry.msg === "node started") node.did = String(entry.id);
    if (entry.msg === "status endpoint listening") ready.resolve();
  }).catch(() => {}).finally(() =>
    ready.reject(new Error(`node ${where} exited early:\n${node.logs.map((l) => JSON.stringify(l)).join("\n")}`))
  );
  const timer = setTimeout(() => ready.reject(new Error(`node ${where} not ready after 60 s`)), 60_000);
  try {
    await ready.promise;
  } finally {
    clearTimeout(timer);
  }
}
