/**
 * Authorization settings of `macula start` (and of the commands that check
 * tokens against a realm's authorities): realm policies, realm authorities,
 * token files and the clock skew. Layers: defaults < realm file <
 * environment < flags; a layer that sets a realm's policy or authorities
 * replaces what a lower layer set for that realm. Every bad value is a
 * `ConfigError` naming the variable, flag or file.
 *
 * @module
 */
import { decodeDidKey } from "../identity/did.ts";
import type { FsApi } from "../platform/types.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { ConfigError } from "./config-error.ts";

/** `open` (anyone in the realm, as before) or `closed` (default deny: a capability is needed). */
export type RealmPolicyName = "open" | "closed";

/** The policy names `--realm-policy` accepts. */
export const REALM_POLICIES: readonly RealmPolicyName[] = ["open", "closed"];

/** Default tolerance of token time bounds, seconds. */
export const DEFAULT_CLOCK_SKEW = 60;

/** What one layer (realm file, environment or flags) says about realms. */
export interface AuthLayer {
  /** A policy for every realm of the node (`--realm-policy closed`). */
  all?: RealmPolicyName;
  /** Policies per realm (`--realm-policy io.acme=closed`). */
  policies: Record<string, RealmPolicyName>;
  /** Authorities per realm (`--realm-authority io.acme=did:key:…`). */
  authorities: Record<string, string[]>;
}

/** The authorization part of a resolved `StartConfig`, before the realm file is read. */
export interface AuthConfig {
  /** `--realm-file` / `MACULA_REALM_FILE`. */
  realmFile?: string;
  /** From `MACULA_REALM_POLICY` and `MACULA_REALM_AUTHORITY`. */
  env: AuthLayer;
  /** From `--realm-policy` and `--realm-authority`. */
  flags: AuthLayer;
  /** Token files besides `<data-dir>/ucan/*.ucan` (`--ucan`, `MACULA_UCAN`). */
  ucan: string[];
  /** Tolerance of token time bounds, seconds (`--clock-skew`, `MACULA_CLOCK_SKEW`). */
  skew: number;
}

/** The authorization flags of `macula start` (absent = not given). */
export interface AuthFlags {
  "realm-policy"?: string[];
  "realm-authority"?: string[];
  "realm-file"?: string;
  ucan?: string[];
  "clock-skew"?: string;
}

/** A realm's resolved settings. */
export interface RealmSettings {
  policy: RealmPolicyName;
  /** did:key of the realm's authorities. */
  authorities: string[];
}

/** An empty layer. */
export function emptyLayer(): AuthLayer {
  return { policies: {}, authorities: {} };
}

/** The defaults: every realm open, no authority, no token file, 60 s of skew. */
export function defaultAuthConfig(): AuthConfig {
  return { env: emptyLayer(), flags: emptyLayer(), ucan: [], skew: DEFAULT_CLOCK_SKEW };
}

const REALM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function realmName(value: string, source: string): string {
  if (!REALM.test(value)) {
    throw new ConfigError(`invalid ${source}: ${JSON.stringify(value)} is not a realm name (e.g. io.acme)`);
  }
  return value;
}

function policyName(value: string, source: string): RealmPolicyName {
  if (!REALM_POLICIES.includes(value as RealmPolicyName)) {
    throw new ConfigError(
      `invalid ${source}: unknown realm policy ${JSON.stringify(value)} (expected ${REALM_POLICIES.join(" or ")})`,
    );
  }
  return value as RealmPolicyName;
}

/**
 * Throw a `ConfigError` naming `source` unless `value` is an Ed25519
 * `did:key`; returns it trimmed.
 */
export function authorityDid(value: string, source: string): string {
  const did = value.trim();
  try {
    decodeDidKey(did);
  } catch (error) {
    throw new ConfigError(`invalid ${source}: ${(error as Error).message}`);
  }
  return did;
}

/**
 * Add `--realm-policy` items (`closed`, `open`, `REALM=closed`) and
 * `--realm-authority` items (`REALM=did:key:…`) to `layer`.
 *
 * @example
 * ```ts
 * import { addToLayer, emptyLayer } from "./auth-config.ts";
 * const layer = addToLayer(emptyLayer(), ["closed", "io.public=open"], [], "--realm-policy", "--realm-authority");
 * layer.all; // "closed"
 * layer.policies; // { "io.public": "open" }
 * ```
 */
export function addToLayer(
  layer: AuthLayer,
  policies: readonly string[],
  authorities: readonly string[],
  policySource: string,
  authoritySource: string,
): AuthLayer {
  for (const item of policies) {
    const v = item.trim();
    const eq = v.indexOf("=");
    if (eq < 0) {
      layer.all = policyName(v, policySource);
    } else {
      layer.policies[realmName(v.slice(0, eq), policySource)] = policyName(v.slice(eq + 1), policySource);
    }
  }
  const named: Record<string, string[]> = {};
  for (const item of authorities) {
    const v = item.trim();
    const eq = v.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError(`invalid ${authoritySource} ${JSON.stringify(item)}: expected REALM=did:key:…`);
    }
    const realm = realmName(v.slice(0, eq), authoritySource);
    const did = authorityDid(v.slice(eq + 1), authoritySource);
    (named[realm] ??= []).includes(did) || named[realm].push(did);
  }
  Object.assign(layer.authorities, named);
  return layer;
}

/** `--clock-skew` / `MACULA_CLOCK_SKEW`: whole seconds, 0-86400. */
export function clockSkew(value: string, source: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 86_400) {
    throw new ConfigError(`invalid ${source} ${JSON.stringify(value)}: expected whole seconds, 0-86400`);
  }
  return Number(value);
}

/**
 * Parse a realm file: `{ "realms": { "io.acme": { "policy": "closed",
 * "authorities": ["did:key:…"] } } }`.
 *
 * @example
 * ```ts
 * import { parseRealmFile } from "./auth-config.ts";
 * parseRealmFile('{ "realms": { "io.acme": { "policy": "open" } } }', "realms.json").policies;
 * // { "io.acme": "open" }
 * ```
 */
export function parseRealmFile(text: string, path: string): AuthLayer {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`invalid realm file ${path}: not JSON (${(error as Error).message})`);
  }
  const where = `realm file ${path}`;
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`invalid ${where}: expected an object { "realms": { … } }`);
  }
  const extra = Object.keys(doc).filter((k) => k !== "realms");
  if (extra.length > 0) throw new ConfigError(`invalid ${where}: unknown key ${JSON.stringify(extra[0])}`);
  const realms = (doc as { realms?: unknown }).realms;
  if (typeof realms !== "object" || realms === null || Array.isArray(realms)) {
    throw new ConfigError(`invalid ${where}: "realms" must be an object of realm name → { policy, authorities }`);
  }
  const layer = emptyLayer();
  for (const [name, entry] of Object.entries(realms)) {
    const at = `${where}, realm ${JSON.stringify(name)}`;
    realmName(name, where);
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`invalid ${at}: expected { "policy": …, "authorities": [ … ] }`);
    }
    const e = entry as Record<string, unknown>;
    const unknown = Object.keys(e).filter((k) => k !== "policy" && k !== "authorities");
    if (unknown.length > 0) throw new ConfigError(`invalid ${at}: unknown key ${JSON.stringify(unknown[0])}`);
    if (e.policy !== undefined) {
      if (typeof e.policy !== "string") throw new ConfigError(`invalid ${at}: "policy" must be "open" or "closed"`);
      layer.policies[name] = policyName(e.policy, at);
    }
    if (e.authorities !== undefined) {
      if (!Array.isArray(e.authorities) || e.authorities.some((a) => typeof a !== "string")) {
        throw new ConfigError(`invalid ${at}: "authorities" must be an array of did:key strings`);
      }
      layer.authorities[name] = [...new Set((e.authorities as string[]).map((a) => authorityDid(a, at)))];
    }
  }
  return layer;
}

/** Read and parse the realm file at `path`. */
export async function readRealmFile(fs: FsApi, path: string): Promise<AuthLayer> {
  let bytes: Uint8Array | null;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read realm file ${path}: ${(error as Error).message.split("\n")[0]}`, {
      cause: error,
    });
  }
  if (bytes === null) throw new ConfigError(`cannot read realm file ${path}: no such file`);
  return parseRealmFile(fromUtf8(bytes), path);
}

function applyLayer(
  out: Record<string, RealmSettings>,
  layer: AuthLayer,
  realms: readonly string[],
  source: { policy: string; authority: string } | undefined,
): void {
  const known = (realm: string, flag: string) => {
    if (out[realm]) return true;
    if (!source) return false; // a realm file may describe realms this node does not run in
    throw new ConfigError(
      `invalid ${flag}: this node does not run in realm ${JSON.stringify(realm)} (its realms: ${
        realms.join(", ")
      }; add --realm ${realm})`,
    );
  };
  if (layer.all) { for (const realm of realms) out[realm].policy = layer.all; }
  for (const [realm, policy] of Object.entries(layer.policies)) {
    if (known(realm, source?.policy ?? "")) out[realm].policy = policy;
  }
  for (const [realm, dids] of Object.entries(layer.authorities)) {
    if (known(realm, source?.authority ?? "")) out[realm].authorities = [...dids];
  }
}

/**
 * Merge the layers for the node's `realms`: file < environment < flags.
 * Throws a `ConfigError` for a closed realm with no authority, or a flag or
 * variable naming a realm the node does not run in.
 *
 * @example
 * ```ts
 * import { addToLayer, defaultAuthConfig, mergeRealms } from "./auth-config.ts";
 * const cfg = defaultAuthConfig();
 * addToLayer(cfg.flags, ["io.b=closed"], ["io.b=did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"], "--realm-policy", "--realm-authority");
 * mergeRealms(cfg, ["io.a", "io.b"], undefined)["io.b"].policy; // "closed"
 * ```
 */
export function mergeRealms(
  cfg: AuthConfig,
  realms: readonly string[],
  file: AuthLayer | undefined,
): Record<string, RealmSettings> {
  const out: Record<string, RealmSettings> = {};
  for (const realm of realms) out[realm] = { policy: "open", authorities: [] };
  if (file) applyLayer(out, file, realms, undefined);
  applyLayer(out, cfg.env, realms, { policy: "MACULA_REALM_POLICY", authority: "MACULA_REALM_AUTHORITY" });
  applyLayer(out, cfg.flags, realms, { policy: "--realm-policy", authority: "--realm-authority" });
  for (const [realm, settings] of Object.entries(out)) {
    if (settings.policy === "closed" && settings.authorities.length === 0) {
      throw new ConfigError(`closed realm ${realm} needs at least one --realm-authority (${realm}=did:key:…)`);
    }
  }
  return out;
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter((v) => v.length > 0);
}

/**
 * Fill `cfg` from the environment (`e` answers a variable, `undefined` when
 * unset or empty) and `flags`; flags replace the environment's token files,
 * realm file and skew, and add a layer over its realm settings.
 */
export function resolveAuth(cfg: AuthConfig, e: (name: string) => string | undefined, flags: AuthFlags): void {
  addToLayer(
    cfg.env,
    list(e("MACULA_REALM_POLICY")),
    list(e("MACULA_REALM_AUTHORITY")),
    "MACULA_REALM_POLICY",
    "MACULA_REALM_AUTHORITY",
  );
  addToLayer(
    cfg.flags,
    flags["realm-policy"] ?? [],
    flags["realm-authority"] ?? [],
    "--realm-policy",
    "--realm-authority",
  );
  if (e("MACULA_REALM_FILE")) cfg.realmFile = e("MACULA_REALM_FILE");
  if (flags["realm-file"] !== undefined) {
    if (flags["realm-file"] === "") throw new ConfigError("invalid --realm-file: must not be empty");
    cfg.realmFile = flags["realm-file"];
  }
  if (e("MACULA_UCAN")) cfg.ucan = list(e("MACULA_UCAN"));
  if (flags.ucan?.length) {
    if (flags.ucan.some((f) => f === "")) throw new ConfigError("invalid --ucan: name a token file");
    cfg.ucan = [...flags.ucan];
  }
  if (e("MACULA_CLOCK_SKEW")) cfg.skew = clockSkew(e("MACULA_CLOCK_SKEW")!, "MACULA_CLOCK_SKEW");
  if (flags["clock-skew"] !== undefined) cfg.skew = clockSkew(flags["clock-skew"], "--clock-skew");
}
