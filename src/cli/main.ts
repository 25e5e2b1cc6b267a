/**
 * The `macula` command line.
 *
 * @module
 */
import type { Platform } from "../platform/types.ts";
import { VERSION } from "../version.ts";
import { describeError, UsageError } from "./args.ts";
import { id } from "./commands/id.ts";
import { query } from "./commands/query.ts";
import { start } from "./commands/start.ts";
import { ConfigError } from "./config.ts";
import { HELP } from "./help.ts";
import { CLIENT_HELP } from "./help-client.ts";
import { call } from "./commands/call.ts";
import { dht } from "./commands/dht.ts";
import { pub, sub } from "./commands/pubsub.ts";
import { content } from "./commands/content.ts";
import { CONTENT_HELP } from "./help-content.ts";
import { STATE_HELP } from "./help-state.ts";
import { state } from "./commands/state.ts";
import { UCAN_HELP } from "./help-ucan.ts";
import { ucan } from "./commands/ucan.ts";
import { namespace } from "./commands/namespace.ts";
import { app } from "./commands/app.ts";
import { registry } from "./commands/registry.ts";
import { selfUpdateCommand } from "./commands/self-update.ts";
import { REGISTRY_HELP } from "./help-registry.ts";

export { describeError, UsageError };

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
        out(
          HELP[topic ?? "main"] ?? CLIENT_HELP[topic ?? ""] ?? CONTENT_HELP[topic ?? ""] ?? UCAN_HELP[topic ?? ""] ??
            STATE_HELP[topic ?? ""] ??
            (topic === "registry" || topic === "self-update" ? REGISTRY_HELP[topic] : undefined) ??
            HELP.main,
        );
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
      case "pub":
        return await pub(rest, platform);
      case "sub":
        return await sub(rest, platform);
      case "call":
        return await call(rest, platform);
      case "dht":
        return await dht(rest, platform);
      case "content":
        return await content(rest, platform);
      case "ucan":
        return await ucan(rest, platform);
      case "namespace":
        return await namespace(rest, platform);
      case "app":
        return await app(rest, platform);
      case "state":
        return await state(rest, platform);
      case "registry":
        return await registry(rest, platform);
      case "self-update":
        return await selfUpdateCommand(rest, platform);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}; run "macula --help"`);
    }
  } catch (error) {
    platform.process.stderr(`macula: ${describeError(error, platform)}\n`);
    return error instanceof UsageError || error instanceof ConfigError ? 2 : 1;
  }
}
