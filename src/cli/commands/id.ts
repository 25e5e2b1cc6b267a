/**
 * `macula id`: print the node's did:key, creating the identity if absent.
 *
 * @module
 */
import { loadOrCreateIdentity } from "../../identity/key-store.ts";
import { NodeId } from "../../identity/node-id.ts";
import type { Platform } from "../../platform/types.ts";
import { parse } from "../args.ts";
import { readEnv, resolveStartConfig } from "../config.ts";
import { HELP } from "../help.ts";

/** Run `macula id`. */
export async function id(args: string[], platform: Platform): Promise<number> {
  const flags = parse<{ help?: boolean; "data-dir"?: string }>(args, { "data-dir": { type: "string" } });
  if (flags.help) return platform.process.stdout(HELP.id + "\n"), 0;
  const cfg = resolveStartConfig(readEnv((n) => n === "MACULA_DATA_DIR" ? platform.process.env(n) : undefined), {
    "data-dir": flags["data-dir"],
  });
  const { keyPair } = await loadOrCreateIdentity(platform.fs, cfg.dataDir);
  platform.process.stdout(new NodeId(keyPair.publicKey).did + "\n");
  return 0;
}
