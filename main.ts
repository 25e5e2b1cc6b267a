/**
 * The `macula` command: `deno task start` runs `macula start`.
 *
 * The same file is the entry of every build: `deno run`, `deno compile` and
 * the Node bundle (CommonJS, which has no top-level await, hence `.then`).
 *
 * @module
 */
import { runCli } from "./src/cli/main.ts";
import { currentPlatform } from "./src/platform/current.ts";

if (import.meta.main) {
  const platform = currentPlatform();
  runCli(platform.process.args, platform).then((code) => platform.process.exit(code));
}
