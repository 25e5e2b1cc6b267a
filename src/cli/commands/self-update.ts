/**
 * `macula self-update [--channel C]`: ask the node running on this machine
 * to replace its binary with the newest signed release of the channel
 * (see `src/registry/self-update.ts`); the node answers, then exits with
 * code 75 so that systemd restarts it on the new binary. Also the node
 * side: what the `/registry/self-update` route runs.
 *
 * @module
 */
import type { Node } from "../../api/node.ts";
import type { Logger } from "../../log/logger.ts";
import type { Platform } from "../../platform/types.ts";
import { DEFAULT_CHANNEL, selfUpdate, SelfUpdateError, type SelfUpdateResult } from "../../registry/self-update.ts";
import { VERSION } from "../../version.ts";
import { parseWithPositionals } from "../args.ts";
import { REGISTRY_HELP } from "../help-registry.ts";
import { localNodeRequest, localNodeUrl } from "./local-node.ts";

/**
 * The node side: update this process's binary from the channel; on success
 * `restart()` is called (after the answer is sent) to exit with code 75.
 */
export async function updateThisNode(
  node: Node,
  platform: Platform,
  log: Logger,
  channel: string,
  restart: () => void,
): Promise<SelfUpdateResult> {
  const run = platform.process.run;
  const execPath = platform.process.execPath?.();
  const spawn = platform.process.spawn;
  if (platform.runtime !== "node" || !run || !execPath) {
    throw new SelfUpdateError(
      "E_SELF_UPDATE_UNSUPPORTED",
      "self-update needs the Node single binary: the Deno build may neither run nor replace its own binary",
    );
  }
  const arch = platform.target.split("-").pop()!;
  const result = await selfUpdate(node.registry, {
    channel,
    arch,
    current: VERSION,
    execPath,
    fs: platform.fs,
    run: (c, a, o) => run.call(platform.process, c, a, o),
    node: spawn ? { spawn: (c, a, o) => spawn.call(platform.process, c, a, o), tcp: platform.tcp } : undefined,
  });
  if (result.updated) {
    log.warn("binary updated; restarting", { from: result.from, to: result.to, previous: result.previous });
    setTimeout(restart, 200);
  }
  return result;
}

/** Run `macula self-update`. */
export async function selfUpdateCommand(args: string[], platform: Platform): Promise<number> {
  const { values: flags } = parseWithPositionals<
    { help?: boolean; channel?: string; json?: boolean; "health-port"?: string; "health-host"?: string }
  >(args, {
    channel: { type: "string" },
    json: { type: "boolean" },
    "health-port": { type: "string" },
    "health-host": { type: "string" },
  }, 0);
  if (flags.help) return platform.process.stdout(REGISTRY_HELP["self-update"] + "\n"), 0;
  const base = localNodeUrl(flags, platform);
  const channel = flags.channel ?? DEFAULT_CHANNEL;
  const res = await localNodeRequest(
    base,
    `/registry/self-update?channel=${encodeURIComponent(channel)}`,
    { method: "POST" },
    platform,
  );
  const r = await res.json() as SelfUpdateResult;
  if (flags.json) platform.process.stdout(JSON.stringify(r) + "\n");
  else if (r.updated) {
    platform.process.stdout(`updated ${r.from} -> ${r.to}; the node restarts (previous binary: ${r.previous})\n`);
  } else platform.process.stdout(`up to date: ${r.from} (channel ${channel} has ${r.to})\n`);
  return 0;
}
