/**
 * `macula ucan issue|inspect|revoke`: capability tokens signed with the data
 * dir key.
 *
 * @module
 */
import type { Platform } from "../../platform/types.ts";
import { UsageError } from "../args.ts";
import { UCAN_HELP } from "../help-ucan.ts";
import { ucanInspect } from "./ucan-inspect.ts";
import { ucanIssue } from "./ucan-issue.ts";
import { ucanRevoke } from "./ucan-revoke.ts";

/** Run `macula ucan …`. */
export function ucan(args: string[], platform: Platform): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "issue":
      return ucanIssue(rest, platform);
    case "inspect":
      return ucanInspect(rest, platform);
    case "revoke":
      return ucanRevoke(rest, platform);
    case undefined:
    case "help":
    case "-h":
    case "--help":
      platform.process.stdout(UCAN_HELP.ucan + "\n");
      return Promise.resolve(0);
    default:
      throw new UsageError(`unknown command "ucan ${sub}"; run "macula ucan --help"`);
  }
}
