/**
 * `macula start`: run a node until SIGINT/SIGTERM.
 *
 * @module
 */
import { startStatusServer } from "../../http/status-server.ts";
import { Logger } from "../../log/logger.ts";
import { Node } from "../../node/node.ts";
import type { Platform } from "../../platform/types.ts";
import { MaculaError } from "../../util/errors.ts";
import { describeError, parse } from "../args.ts";
import { readEnv, resolveStartConfig, type StartFlags } from "../config.ts";
import { HELP } from "../help.ts";

/** Run `macula start`. */
export async function start(args: string[], platform: Platform): Promise<number> {
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
