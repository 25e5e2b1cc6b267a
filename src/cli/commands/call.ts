/**
 * `macula call PROCEDURE JSON`: call a procedure somewhere in the mesh and
 * print the result as JSON (with `--count N`, one JSON line per call).
 *
 * @module
 */
import type { Platform } from "../../platform/types.ts";
import { MaculaError } from "../../util/errors.ts";
import { UsageError } from "../args.ts";
import { CLIENT_HELP as HELP } from "../help-client.ts";
import { AS_NODE_FLAG, callAsNode } from "./as-node.ts";
import { type ClientFlags, jsonArgument, parseClient, positiveInt, withClientNode } from "./client.ts";

/** Run `macula call`. */
export async function call(args: string[], platform: Platform): Promise<number> {
  const { flags, positionals } = parseClient<ClientFlags & { count?: string; interval?: string }>(args, {
    count: { type: "string" },
    interval: { type: "string" },
    ...AS_NODE_FLAG,
  }, 2);
  if (flags.help) return platform.process.stdout(HELP.call + "\n"), 0;
  const [procedure, json] = positionals;
  if (!procedure) {
    throw new UsageError('missing PROCEDURE; usage: macula call PROCEDURE JSON (run "macula call --help")');
  }
  const callArgs = jsonArgument(json, "the arguments");
  const count = positiveInt(flags.count, "--count", 1);
  const interval = flags.interval === undefined ? 0 : positiveInt(flags.interval, "--interval", 1);
  const timeout = positiveInt(flags.timeout, "--timeout", 10_000);
  if (flags["as-node"]) {
    if (count !== 1) throw new UsageError("--as-node makes one call; --count does not apply");
    return await callAsNode(flags, procedure, callArgs, timeout, platform);
  }
  return await withClientNode(flags, platform, async (node, realm) => {
    if (count === 1) {
      const result = await node.call(procedure, callArgs, { realm, timeout });
      platform.process.stdout(JSON.stringify(result ?? null) + "\n");
      return 0;
    }
    let failed = 0;
    for (let i = 1; i <= count; i++) {
      const started = performance.now();
      try {
        const result = await node.call(procedure, callArgs, { realm, timeout });
        const ms = Math.round((performance.now() - started) * 100) / 100;
        platform.process.stdout(JSON.stringify({ i, ms, result: result ?? null }) + "\n");
      } catch (error) {
        failed++;
        const code = error instanceof MaculaError ? error.code : "E_UNKNOWN";
        platform.process.stdout(JSON.stringify({ i, error: { code, message: (error as Error).message } }) + "\n");
      }
      if (interval > 0 && i < count) await new Promise((r) => setTimeout(r, interval));
    }
    return failed === 0 ? 0 : 1;
  });
}
