/**
 * The `macula` command line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadOrCreateIdentity } from "../identity/key-store.ts";
import { NodeId } from "../identity/node-id.ts";
import { Logger } from "../log/logger.ts";
import { Node } from "../node/node.ts";
import type { Platform } from "../platform/types.ts";
import { startStatusServer } from "../http/status-server.ts";
import { MaculaError } from "../util/errors.ts";
import { VERSION } from "../version.ts";
import { ConfigError, readEnv, resolveStartConfig, type StartFlags } from "./config.ts";
import { HELP } from "./help.ts";

/** A usage error: bad command or flag (exit code 2). */
export class UsageError extends MaculaError {
  constructor(message: string) {
    super("E_USAGE", message);
  }
}

function parse<T>(
  args: string[],
  options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>,
): T {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    })
      .values as T;
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}

/** One line describing `error` for the user. */
export function describeError(error: unknown, platform: Platform): string {
  for (let e: unknown = error; e; e = (e as Error).cause) {
    const denied = platform.permissionDenied(e);
    if (denied) return denied;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}

/**
 * Run the CLI with `args`; resolves with the exit code.
 *
 * @example
 * ```ts
 * import { runCli } from "./main.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const code = await runCli(["id", "--data-dir", ".macula"], currentPlatform());
 * ```
 */
export async function runCli(args: string[], platform: Platform): Promise<number> {
  const out = (text: string) => platform.process.stdout(text + "\n");
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "-h":
      case "--help": {
        const topic = command === "help" ? rest[0] : undefined;
        out(HELP[topic ?? "main"] ?? HELP.main);
        return 0;
      }
      case "version":
      case "--version":
      case "-V":
        if (rest.includes("--help") || rest.includes("-h")) return out(HELP.version), 0;
        out(`macula ${VERSION} (${platform.target}, ${platform.runtimeVersion}${platform.quic ? "" : ", no QUIC"})`);
        return 0;
      case "start":
        return await start(rest, platform);
      case "id":
        return await id(rest, platform);
      case "status":
      case "peers":
        return await query(command, rest, platform);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}; run "macula --help"`);
    }
  } catch (error) {
    platform.process.stderr(`macula: ${describeError(error, platform)}\n`);
    return error instanceof UsageError || error instanceof ConfigError ? 2 : 1;
  }
}

async function id(args: string[], platform: Platform): Promise<number> {
  const flags = parse<{ help?: boolean; "data-dir"?: string }>(args, { "data-dir": { type: "string" } });
  if (flags.help) return platform.process.stdout(HELP.id + "\n"), 0;
  const cfg = resolveStartConfig(readEnv((n) => n === "MACULA_DATA_DIR" ? platform.process.env(n) : undefined), {
    "data-dir": flags["data-dir"],
  });
  const { keyPair } = await loadOrCreateIdentity(platform.fs, cfg.dataDir);
  platform.process.stdout(new NodeId(keyPair.publicKey).did + "\n");
  return 0;
}

async function query(what: "status" | "peers", args: string[], platform: Platform): Promise<number> {
  const flags = parse<{ help?: boolean; json?: boolean; "health-port"?: string; "health-host"?: string }>(args, {
    "health-port": { type: "string" },
    "health-host": { type: "string" },
    json: { type: "boolean" },
  });
  if (flags.help) return platform.process.stdout(HELP[what] + "\n"), 0;
  const env = readEnv((n) => n === "HEALTH_PORT" || n === "MACULA_HEALTH_HOST" ? platform.process.env(n) : undefined);
  const cfg = resolveStartConfig(env, { "health-port": flags["health-port"], "health-host": flags["health-host"] });
  const host = cfg.healthHost.includes(":") ? `[${cfg.healthHost}]` : cfg.healthHost;
  const url = `http://${host}:${cfg.healthPort}/${what}`;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (error) {
    if (platform.permissionDenied(error)) throw error;
    throw new MaculaError(
      "E_NO_NODE",
      `no node answered at ${url} (${
        (error as Error).message.split("\n")[0]
      }); is "macula start" running with this --health-port?`,
    );
  }
  const out = (text: string) => platform.process.stdout(text + "\n");
  if (flags.json) {
    out(JSON.stringify(body, null, 2));
  } else if (what === "status") {
    const s = body as Record<string, unknown>;
    out(
      `id       ${s.id}\nrealm    ${s.realm}\nversion  ${s.version}\nruntime  ${s.runtime}\nuptime   ${s.uptime} s\npeers    ${s.peers}`,
    );
    for (const a of (s.addrs as string[]) ?? []) out(`addr     ${a}`);
  } else {
    const peers = body as Array<Record<string, unknown>>;
    if (peers.length === 0) out("no connected peers");
    for (const p of peers) {
      const rtt = typeof p.rtt === "number" ? `${p.rtt.toFixed(2)} ms` : "-";
      out(`${p.id}  ${p.transport}  ${p.direction}  ${p.address}  rtt ${rtt}`);
    }
  }
  return 0;
}

async function start(args: string[], platform: Platform): Promise<number> {
  const flags = parse<StartFlags & { help?: boolean }>(args, {
    "data-dir": { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    "health-host": { type: "string" },
    "health-port": { type: "string" },
    seed: { type: "string", multiple: true },
    realm: { type: "string", multiple: true },
    "log-format": { type: "string" },
    "log-level": { type: "string" },
  });
  if (flags.help) return platform.process.stdout(HELP.start + "\n"), 0;
  const cfg = resolveStartConfig(readEnv((n) => platform.process.env(n)), flags);
  const log = new Logger({
    format: cfg.logFormat,
    level: cfg.logLevel,
    sink: (line) => platform.process.stderr(line + "\n"),
  });
  const node = await Node.start({
    dataDir: cfg.dataDir,
    host: cfg.host,
    port: cfg.port,
    seeds: cfg.seeds,
    realms: cfg.realms,
    logger: log,
    platform,
  });
  let server;
  try {
    server = await startStatusServer(node, platform.http, cfg.healthHost, cfg.healthPort);
  } catch (error) {
    await node.stop();
    throw new MaculaError(
      "E_LISTEN",
      `cannot serve HTTP on ${cfg.healthHost}:${cfg.healthPort}: ${describeError(error, platform)} (use --health-port)`,
    );
  }
  log.info("status endpoint listening", { url: `http://${server.addr.hostname}:${server.addr.port}/status` });
  const signal = await new Promise<string>((resolve) => {
    let received = false;
    const off = platform.process.onShutdownSignal((sig) => {
      if (received) {
        log.warn("second signal; exiting immediately");
        platform.process.exit(1);
      }
      received = true;
      resolve(sig);
      // keep the handler installed so a second signal forces exit
      void off;
    });
  });
  log.info("shutting down", { signal });
  await server.close().catch(() => {});
  await node.stop();
  return 0;
}
