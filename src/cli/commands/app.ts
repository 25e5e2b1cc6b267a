/**
 * `macula app verify MANIFEST.json`: run admission steps 2–4 (identity and
 * namespace ownership, capabilities, API entries) on an app manifest,
 * against the realm's authorities as `macula start` would configure them,
 * and print the verified manifest or the failed step. Exit code 0 admitted,
 * 1 refused.
 *
 * @module
 */
import { verifyManifest } from "../../apps/manifest-file.ts";
import type { Platform } from "../../platform/types.ts";
import { fromUtf8 } from "../../util/bytes.ts";
import { MaculaError } from "../../util/errors.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { AUTH_FLAGS } from "../auth-flags.ts";
import { resolveRealms } from "../auth-start.ts";
import { readEnv, resolveStartConfig, type StartFlags } from "../config.ts";
import { UCAN_HELP } from "../help-ucan.ts";
import { isoSeconds } from "../time-flags.ts";
import { dataDirSigner, nowSeconds } from "./token-io.ts";
import { knownRevocations } from "./ucan-inspect.ts";

/** Largest manifest file read, bytes. */
const MAX_MANIFEST = 256 * 1024;

async function readManifest(path: string, platform: Platform): Promise<string> {
  let bytes: Uint8Array | null;
  try {
    const info = await platform.fs.stat(path);
    if (info && !info.isFile) throw new UsageError(`${path} is not a file`);
    if (info && info.size > MAX_MANIFEST) throw new UsageError(`${path} is over ${MAX_MANIFEST} bytes: not a manifest`);
    bytes = await platform.fs.readFile(path);
  } catch (error) {
    if (error instanceof MaculaError || platform.permissionDenied(error)) throw error;
    throw new UsageError(`cannot read ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (bytes === null) throw new UsageError(`cannot read ${path}: no such file`);
  return fromUtf8(bytes);
}

/** Run `macula app …`. */
export async function app(args: string[], platform: Platform): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    return platform.process.stdout(UCAN_HELP.app + "\n"), 0;
  }
  if (sub !== "verify") throw new UsageError(`unknown command "app ${sub}"; run "macula app --help"`);
  const { values: f, positionals } = parseWithPositionals<
    Omit<StartFlags, "realm"> & { help?: boolean; json?: boolean; realm?: string }
  >(rest, {
    ...AUTH_FLAGS,
    "data-dir": { type: "string" },
    realm: { type: "string" },
    json: { type: "boolean" },
  }, 1);
  if (f.help) return platform.process.stdout(UCAN_HELP.app + "\n"), 0;
  const [file] = positionals;
  if (file === undefined) throw new UsageError("missing MANIFEST; usage: macula app verify MANIFEST.json");
  const { help: _help, json: _json, realm: realmFlag, ...startFlags } = f;
  const cfg = resolveStartConfig(readEnv((n) => platform.process.env(n)), {
    ...startFlags,
    realm: realmFlag === undefined ? undefined : [realmFlag],
  });
  const realm = cfg.realms[0];
  const settings = (await resolveRealms(cfg, platform.fs))[realm];
  // With no authority configured, the node's own key is the implicit one (as the auth service does).
  const roots = settings.authorities.length ? settings.authorities : [(await dataDirSigner(cfg.dataDir, platform)).did];
  const known = await knownRevocations(cfg.dataDir, platform);
  const now = nowSeconds();
  const check = verifyManifest(await readManifest(file, platform), {
    realm,
    roots,
    now,
    skew: cfg.auth.skew,
    isRevoked: (cid, issuers) => known.some((r) => r.cid === cid && issuers.includes(r.revoker)),
  });
  const out = (s: string) => platform.process.stdout(s + "\n");
  if (check.ok) {
    const m = check.manifest;
    if (f.json) {
      out(JSON.stringify({ admitted: true, manifest: m }, null, 2));
    } else {
      out(`admitted in realm ${realm}: ${m.identity} (namespace ${m.namespace})`);
      out(`  did           ${m.did}`);
      out(`  fingerprint   ${m.keyFingerprint}`);
      out(`  capabilities  ${m.capabilities.join(", ") || "none"}`);
      out(`  topics        ${m.api.topics.join(", ") || "none"}`);
      out(`  procedures    ${m.api.procedures.join(", ") || "none"}`);
      out(`  content types ${m.api.contentTypes.join(", ") || "none"}`);
      out(`  proof         ${m.expires === null ? "never expires" : `expires ${isoSeconds(m.expires)}`}`);
    }
    return 0;
  }
  const e = check.error;
  const step = "step" in e ? e.step : "invalid_manifest";
  const details = "details" in e ? e.details : undefined;
  if (f.json) {
    out(JSON.stringify({ admitted: false, step, error: e.message, details: details ?? null }, null, 2));
  } else {
    out(`refused at step ${step}: ${e.message}`);
    if (details !== undefined) out(`  details: ${JSON.stringify(details)}`);
  }
  return 1;
}
