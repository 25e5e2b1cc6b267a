/**
 * `macula content publish|fetch|ls|pin|unpin|rm`: talk to the node running
 * on this machine through its status port (`/content` routes).
 *
 * @module
 */
import { InvalidMcidError } from "../../content/errors.ts";
import { Mcid } from "../../content/mcid.ts";
import type { ContentEntryJson } from "../../http/content-routes.ts";
import type { Platform } from "../../platform/types.ts";
import { MaculaError } from "../../util/errors.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { localNodeRequest, localNodeUrl } from "./local-node.ts";
import { CONTENT_HELP } from "../help-content.ts";
import { formatBytes, formatDuration, progressBar, progressLine, type ProgressSample } from "./content-progress.ts";

interface ContentFlags {
  help?: boolean;
  "health-port"?: string;
  "health-host"?: string;
  json?: boolean;
  pin?: boolean;
  name?: string;
  output?: string;
  quiet?: boolean;
}

/** How a fetch reports progress: the interval of plain lines (ms) and of terminal redraws. */
const LINE_INTERVAL = 2_000;
const BAR_INTERVAL = 250;

/** The node's base URL from flags and env (`HEALTH_PORT`, `MACULA_HEALTH_HOST`). */
function baseUrl(flags: ContentFlags, platform: Platform): string {
  return localNodeUrl(flags, platform);
}

/** A request to the local node; a clear error when no node answers, the node's one-line error otherwise. */
function call(base: string, path: string, init: RequestInit, platform: Platform): Promise<Response> {
  return localNodeRequest(base, path, init, platform, (status) => status === 404 ? "E_CONTENT_NOT_FOUND" : "E_CONTENT");
}

function mcidArgument(text: string | undefined, command: string): Mcid {
  if (text === undefined) throw new UsageError(`macula content ${command} needs a content id (b…)`);
  try {
    return Mcid.parse(text);
  } catch (error) {
    if (error instanceof InvalidMcidError) throw new UsageError(`invalid content id: ${error.message}`);
    throw error;
  }
}

/**
 * The source of a publish (`macula content publish`, `macula registry
 * publish`): `-` is stdin, anything else a file this process may read; a
 * denied path names the fix (`command - < FILE`).
 */
export async function publishSource(
  path: string,
  platform: Platform,
  command = "macula content publish",
): Promise<ReadableStream<Uint8Array>> {
  if (path === "-") return platform.process.stdin();
  let info;
  try {
    info = await platform.fs.stat(path);
  } catch (error) {
    if (!platform.permissionDenied(error)) throw error;
    throw new MaculaError(
      "E_PERMISSION",
      `cannot read ${path}: outside the paths macula may read (.macula, /var/lib/macula); pipe it instead: ${command} - < ${path}`,
    );
  }
  if (!info) throw new MaculaError("E_NOT_FOUND", `cannot read ${path}: no such file`);
  if (!info.isFile) throw new MaculaError("E_NOT_FOUND", `cannot read ${path}: not a file`);
  return platform.fs.readStream(path, 256 * 1024);
}

async function publish(base: string, file: string | undefined, flags: ContentFlags, platform: Platform) {
  if (file === undefined) throw new UsageError("macula content publish needs a FILE (or - for stdin)");
  const body = await publishSource(file, platform);
  const query = new URLSearchParams();
  if (flags.pin) query.set("pin", "1");
  if (flags.name !== undefined) query.set("name", flags.name);
  const res = await call(base, `/content${query.size ? `?${query}` : ""}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/octet-stream" },
    duplex: "half",
  } as RequestInit, platform);
  const answer = await res.json() as { mcid: string; size: number };
  if (flags.json) platform.process.stdout(JSON.stringify(answer) + "\n");
  else platform.process.stdout(answer.mcid + "\n");
}

/** Where fetched bytes go: stdout, or a temp file renamed over FILE at the end. */
interface Sink {
  write(data: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

async function fileSink(path: string, platform: Platform): Promise<Sink> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const name = path.slice(slash + 1);
  if (name === "" || name === "." || name === "..") throw new UsageError(`-o ${path}: name a file, not a directory`);
  const temp = platform.fs.join(dir, `.${name}.${crypto.randomUUID().slice(0, 8)}.part`);
  let handle;
  try {
    handle = await platform.fs.open(temp, { write: true, createNew: true, mode: 0o644 });
  } catch (error) {
    if (platform.permissionDenied(error)) {
      throw new MaculaError(
        "E_PERMISSION",
        `cannot write ${path}: outside the paths macula may write (.macula, /var/lib/macula); use stdout instead: macula content fetch MCID > ${path}`,
      );
    }
    throw new MaculaError("E_WRITE", `cannot write ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  let offset = 0;
  return {
    async write(data) {
      await handle.writeAt(data, offset);
      offset += data.length;
    },
    async commit() {
      await handle.sync();
      await handle.close();
      await platform.fs.rename(temp, path);
    },
    async abort() {
      await handle.close().catch(() => {});
      await platform.fs.remove(temp).catch(() => false);
    },
  };
}

function stdoutSink(platform: Platform): Sink {
  return {
    write: (data) => platform.process.writeStdout(data),
    commit: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  };
}

/** A transfer as `/content/transfers` shows it (the fields used here). */
interface TransferJson {
  mcid: string;
  bytes: number;
  rate: number;
  providers?: Array<{ state?: string }>;
}

/** Poll the node's transfer of `mcid` and draw progress until `stop()`. */
function followProgress(
  base: string,
  mcid: Mcid,
  received: () => number,
  platform: Platform,
  tty: boolean,
): { stop(): void } {
  const started = Date.now();
  let last: TransferJson | undefined;
  let lastLine = 0;
  let stopped = false;
  const poll = async () => {
    try {
      const res = await fetch(`${base}/content/transfers`, { signal: AbortSignal.timeout(2_000) });
      const list = await res.json() as TransferJson[];
      last = list.find((t) => t.mcid === mcid.toString()) ?? last;
    } catch { /* progress is best-effort */ }
  };
  const draw = () => {
    if (stopped) return;
    const elapsed = (Date.now() - started) / 1000;
    const got = received();
    const sample: ProgressSample = {
      bytes: Math.max(got, last?.bytes ?? 0),
      size: mcid.size,
      rate: last?.rate ?? (elapsed > 0 ? got / elapsed : 0),
      providers: last?.providers?.filter((p) => p.state === "active").length,
    };
    if (tty) platform.process.stderr(`\r${progressBar(sample)}\x1b[K`);
    else if (Date.now() - lastLine >= LINE_INTERVAL) {
      lastLine = Date.now();
      platform.process.stderr(progressLine(sample) + "\n");
    }
  };
  lastLine = Date.now(); // the first plain line after one interval
  const timer = setInterval(() => poll().then(draw), tty ? BAR_INTERVAL : 500);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      if (tty) platform.process.stderr("\r\x1b[K");
    },
  };
}

async function fetchContent(
  base: string,
  text: string | undefined,
  flags: ContentFlags,
  platform: Platform,
): Promise<void> {
  const mcid = mcidArgument(text, "fetch");
  const toStdout = flags.output === undefined || flags.output === "-";
  if (toStdout && platform.process.isTerminal("stdout")) {
    throw new UsageError("refusing to write content to a terminal; give -o FILE or redirect stdout");
  }
  const sink = flags.output === undefined || flags.output === "-"
    ? stdoutSink(platform)
    : await fileSink(flags.output, platform);
  const started = Date.now();
  let received = 0;
  const progress = flags.quiet
    ? undefined
    : followProgress(base, mcid, () => received, platform, platform.process.isTerminal("stderr"));
  // SIGINT/SIGTERM: stop reading, drop the temp file, exit 1 with one line.
  const interrupt = new AbortController();
  const off = platform.process.onShutdownSignal((signal) => interrupt.abort(signal));
  const interrupted = () =>
    new MaculaError(
      "E_INTERRUPTED",
      `interrupted (${interrupt.signal.reason}) after ${received} of ${mcid.size} bytes`,
    );
  try {
    const res = await call(base, `/content/${mcid}`, { signal: interrupt.signal }, platform).catch((error) => {
      throw interrupt.signal.aborted ? interrupted() : error;
    });
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        let next;
        try {
          next = await reader.read();
        } catch (error) {
          if (interrupt.signal.aborted) throw interrupted();
          throw new MaculaError(
            "E_CONTENT_FETCH",
            `the node stopped sending after ${received} of ${mcid.size} bytes (${
              (error as Error).message.split("\n")[0]
            }); see its log`,
          );
        }
        if (next.done) break;
        await sink.write(next.value);
        received += next.value.length;
      }
    }
    if (received !== mcid.size) {
      throw new MaculaError("E_CONTENT_FETCH", `got ${received} of ${mcid.size} bytes; see the node's log`);
    }
    await sink.commit();
  } catch (error) {
    progress?.stop();
    await sink.abort();
    throw error;
  } finally {
    off();
  }
  progress?.stop();
  if (!flags.quiet) {
    const seconds = (Date.now() - started) / 1000;
    const where = flags.output && flags.output !== "-" ? ` to ${flags.output}` : "";
    platform.process.stderr(
      `fetched ${formatBytes(mcid.size)}${where} in ${formatDuration(seconds)} (${
        formatBytes(seconds > 0 ? mcid.size / seconds : 0)
      }/s)\n`,
    );
  }
}

async function list(base: string, flags: ContentFlags, platform: Platform): Promise<void> {
  const entries = await (await call(base, "/content", {}, platform)).json() as ContentEntryJson[];
  const out = (line: string) => platform.process.stdout(line + "\n");
  if (flags.json) return out(JSON.stringify(entries, null, 2));
  if (entries.length === 0) return out("no content stored");
  for (const e of entries) {
    const state = e.complete ? "complete" : `partial ${e.size === 0 ? 100 : Math.floor((e.bytes / e.size) * 100)}%`;
    out(`${e.mcid}  ${formatBytes(e.size).padStart(10)}  ${state.padEnd(11)}  ${e.pinned ? "pinned" : "-"}`);
  }
}

async function change(
  base: string,
  what: "pin" | "unpin" | "rm",
  text: string | undefined,
  flags: ContentFlags,
  platform: Platform,
): Promise<void> {
  const mcid = mcidArgument(text, what);
  const [method, path] = what === "pin"
    ? ["PUT", `/content/${mcid}/pin`]
    : what === "unpin"
    ? ["DELETE", `/content/${mcid}/pin`]
    : ["DELETE", `/content/${mcid}`];
  const body = await (await call(base, path, { method }, platform)).json();
  if (flags.json) platform.process.stdout(JSON.stringify(body) + "\n");
  else platform.process.stdout(`${what === "rm" ? "removed" : what === "pin" ? "pinned" : "unpinned"} ${mcid}\n`);
}

/** Run `macula content …`. */
export async function content(args: string[], platform: Platform): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    return platform.process.stdout(CONTENT_HELP.content + "\n"), 0;
  }
  if (!["publish", "fetch", "ls", "pin", "unpin", "rm"].includes(sub)) {
    throw new UsageError(`unknown content command ${JSON.stringify(sub)}; run "macula content --help"`);
  }
  const { values: flags, positionals } = parseWithPositionals<ContentFlags>(rest, {
    "health-port": { type: "string" },
    "health-host": { type: "string" },
    json: { type: "boolean" },
    ...(sub === "publish" ? { pin: { type: "boolean" }, name: { type: "string" } } : {}),
    ...(sub === "fetch" ? { output: { type: "string", short: "o" }, quiet: { type: "boolean", short: "q" } } : {}),
  }, sub === "ls" ? 0 : 1);
  if (flags.help) return platform.process.stdout(CONTENT_HELP[sub] + "\n"), 0;
  const base = baseUrl(flags, platform);
  switch (sub) {
    case "publish":
      await publish(base, positionals[0], flags, platform);
      break;
    case "fetch":
      await fetchContent(base, positionals[0], flags, platform);
      break;
    case "ls":
      await list(base, flags, platform);
      break;
    default:
      await change(base, sub as "pin" | "unpin" | "rm", positionals[0], flags, platform);
  }
  return 0;
}
