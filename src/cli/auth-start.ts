/**
 * From the resolved settings to the node's `AuthOptions`: the realm file
 * read and merged, the token files read and checked against the node's
 * identity. A held chain must end at this node; one that is expired or not
 * yet valid is skipped with a warning (the node still starts).
 *
 * @module
 */
import type { AuthOptions, RealmAuth } from "../auth/auth-service.ts";
import type { Logger } from "../log/logger.ts";
import type { FsApi } from "../platform/types.ts";
import { type Delegation, verifyChain } from "../ucan/mod.ts";
import { mergeRealms, readRealmFile, type RealmSettings } from "./auth-config.ts";
import { ConfigError } from "./config-error.ts";
import type { StartConfig } from "./config.ts";
import { describeExpiry } from "./time-flags.ts";
import { loadTokenFiles } from "./token-files.ts";

/** What `resolveNodeAuth` gives `macula start`. */
export interface NodeAuth {
  /** For `NodeOptions.auth`. */
  options: AuthOptions;
  /** The merged realm settings. */
  realms: Record<string, RealmSettings>;
}

/** The realm settings of `cfg` (the realm file read, if any). */
export async function resolveRealms(cfg: StartConfig, fs: FsApi): Promise<Record<string, RealmSettings>> {
  const file = cfg.auth.realmFile === undefined ? undefined : await readRealmFile(fs, cfg.auth.realmFile);
  return mergeRealms(cfg.auth, cfg.realms, file);
}

/**
 * Resolve the node's authorization options; `did` is the node's identity
 * (the audience its chains must end at) and `nowMs` the clock.
 */
export async function resolveNodeAuth(
  cfg: StartConfig,
  fs: FsApi,
  did: string,
  log: Logger,
  nowMs: number = Date.now(),
): Promise<NodeAuth> {
  const realms = await resolveRealms(cfg, fs);
  const files = await loadTokenFiles(fs, cfg.dataDir, cfg.auth.ucan);
  const now = Math.floor(nowMs / 1000);
  const authorities = new Set(Object.values(realms).flatMap((r) => r.authorities));
  const chains: Delegation[][] = [];
  for (const { path, chain } of files) {
    const last = chain[chain.length - 1];
    if (last.aud !== did) {
      throw new ConfigError(
        `token file ${path} is delegated to ${last.aud}, not to this node (${did}); issue one with --aud ${did}`,
      );
    }
    try {
      verifyChain(chain, { audience: did, now, skew: cfg.auth.skew });
    } catch (error) {
      const e = error as Error;
      if (e.name === "Expired" || e.name === "TooEarly") {
        // Time passes: a node with an old (or early) token still starts, without it.
        const exp = chain.reduce<number | null>((m, d) => d.exp === null ? m : Math.min(m ?? d.exp, d.exp), null);
        log.warn(`skipping a token file that is not valid now: ${e.message.split("\n")[0]}`, {
          path,
          chain: describeExpiry(exp, now),
        });
        continue;
      }
      throw new ConfigError(`invalid token file ${path}: ${e.message.split("\n")[0]}`, { cause: error });
    }
    if (authorities.size > 0 && !authorities.has(chain[0].iss)) {
      log.warn("a token file is rooted at no authority of this node's realms", { path, root: chain[0].iss });
    }
    chains.push(chain);
  }
  const realmAuth: Record<string, RealmAuth> = {};
  for (const [realm, s] of Object.entries(realms)) {
    realmAuth[realm] = { policy: s.policy, authorities: s.authorities };
    if (s.policy === "closed") {
      const held = chains.filter((c) => s.authorities.includes(c[0].iss)).length;
      log.info("closed realm", { realm, authorities: s.authorities.length, chains: held });
    }
  }
  return { options: { realms: realmAuth, chains, skew: cfg.auth.skew }, realms };
}
