/**
 * The authorization flags `macula start` and `macula app verify` share.
 *
 * @module
 */
import type { FlagSpec } from "./args.ts";

/** `--realm-policy`, `--realm-authority`, `--realm-file`, `--ucan`, `--clock-skew`. */
export const AUTH_FLAGS: FlagSpec = {
  "realm-policy": { type: "string", multiple: true },
  "realm-authority": { type: "string", multiple: true },
  "realm-file": { type: "string" },
  ucan: { type: "string", multiple: true },
  "clock-skew": { type: "string" },
};
