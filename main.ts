/**
 * The `macula` command: `deno task start` runs `macula start`.
 *
 * @module
 */
import { runCli } from "./src/cli/main.ts";
import { currentPlatform } from "./src/platform/current.ts";

if (import.meta.main) {
  const platform = currentPlatform();
  platform.process.exit(await runCli(platform.process.args, platform));
}
