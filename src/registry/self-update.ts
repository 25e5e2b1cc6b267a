/**
 * Self-update of the running single binary from the registry.
 *
 * The release of Macula for channel `C` is the newest release of
 * `io.macula.node.C` for this arch (or `any`). When it is newer than the
 * running version:
 *
 * 1. it is installed (verified: signature, chain, content id) next to the
 *    binary as `.<binary>.candidate`;
 * 2. the candidate must pass its health check: `candidate --version` exits 0
 *    within the timeout and names the release's version, and (given
 *    `node`, as the CLI does) the candidate started as a throw-away node
 *    answers `/health` and `/ready` within 20 s (`health-check.ts`) — else
 *    it is removed and nothing changes (`E_SELF_UPDATE_HEALTH`);
 * 3. the running binary is copied to `<binary>.prev` (for rollback), and the
 *    candidate renamed over `<binary>` (atomic: the path always holds a
 *    whole binary);
 * 4. the installed binary is checked again; if it fails, `<binary>.prev` is
 *    renamed back (rolled back, `E_SELF_UPDATE_ROLLED_BACK`);
 * 5. `<binary>.pending` is written (see `pending.ts`: the new binary must
 *    become ready after the restart, else the next start rolls back);
 * 6. the node then exits with `EXIT_RESTART` (75) so that systemd
 *    (`Restart=on-failure`) starts the new binary.
 *
 * @module
 */
import type { FsApi, ProcessApi } from "../platform/types.ts";
import { MaculaError } from "../util/errors.ts";
import { checkCandidateNode, HealthCheckError, type NodeHealthCheckOptions } from "./health-check.ts";
import { writePending } from "./pending.ts";
import { compareVersions, type Release } from "./release.ts";

/** Exit code of a node that replaced its binary and wants to be restarted (EX_TEMPFAIL). */
export const EXIT_RESTART = 75;
/** Default channel. */
export const DEFAULT_CHANNEL = "stable";
/** How long the candidate's health check may take, ms. */
export const HEALTH_TIMEOUT = 15_000;

/** The registry name of Macula's releases on `channel`. */
export function channelName(channel: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(channel)) {
    throw new SelfUpdateError("E_SELF_UPDATE_CHANNEL", `invalid channel ${JSON.stringify(channel)}: use a-z 0-9 _ -`);
  }
  return `io.macula.node.${channel}`;
}

/** A self-update that did not happen or was rolled back; `code` says which step. */
export class SelfUpdateError extends MaculaError {}

/** What self-update needs of the registry. */
export interface SelfUpdateRegistry {
  /** The release to update to (see `RegistryService.info`). */
  info(name: string, query: { arch?: string }): Promise<Release>;
  /** Install it (see `RegistryService.install`). */
  install(name: string, options: { version: string; arch?: string; dir: string; file: string }): Promise<unknown>;
}

/** Where and what runs. */
export interface SelfUpdateOptions {
  /** The channel (default `stable`). */
  channel?: string;
  /** This binary's arch (`x86_64`, `aarch64`, `armv7`). */
  arch: string;
  /** The running version. */
  current: string;
  /** The binary to replace. */
  execPath: string;
  /** Files. */
  fs: FsApi;
  /** Runs the health check. */
  run: NonNullable<ProcessApi["run"]>;
  /** Health-check timeout, ms (default `HEALTH_TIMEOUT`). */
  timeoutMs?: number;
  /** Also start the candidate as a node and require `/health` and `/ready` (see `health-check.ts`). */
  node?: Omit<NodeHealthCheckOptions, "fs" | "dir">;
  /** The clock for the pending marker (default `Date.now`). */
  now?: () => number;
}

/** What a self-update did. */
export interface SelfUpdateResult {
  /** Whether the binary was replaced (a restart is due). */
  updated: boolean;
  /** The version running before. */
  from: string;
  /** The release's version. */
  to: string;
  /** Where the previous binary was kept (when updated). */
  previous?: string;
}

async function healthy(run: SelfUpdateOptions["run"], path: string, version: string, timeoutMs: number) {
  const r = await run(path, ["--version"], { timeoutMs }).catch(() => ({ code: null, stdout: "" }));
  return r.code === 0 && r.stdout.startsWith(`macula ${version} `);
}

/**
 * Update the binary at `options.execPath` to the newest release of the
 * channel (see the module doc). Resolves `{ updated: false }` when already
 * current; throws `SelfUpdateError` when the candidate fails its check
 * (nothing changed) or the installed binary did (rolled back), and the
 * registry's errors for a refused release.
 *
 * @example
 * ```ts
 * import { selfUpdate } from "./self-update.ts";
 * declare const node: import("../api/node.ts").Node;
 * declare const fs: import("../platform/types.ts").FsApi;
 * declare const run: NonNullable<import("../platform/types.ts").ProcessApi["run"]>;
 * const r = await selfUpdate(node.registry, { arch: "x86_64", current: "0.1.0", execPath: "/var/lib/macula/bin/macula", fs, run });
 * if (r.updated) console.log(`restart into ${r.to}`);
 * ```
 */
export async function selfUpdate(registry: SelfUpdateRegistry, options: SelfUpdateOptions): Promise<SelfUpdateResult> {
  const { fs, execPath, run } = options;
  const timeoutMs = options.timeoutMs ?? HEALTH_TIMEOUT;
  const release = await registry.info(channelName(options.channel ?? DEFAULT_CHANNEL), { arch: options.arch });
  const result = { from: options.current, to: release.version };
  if (compareVersions(release.version, options.current) <= 0) return { updated: false, ...result };
  const slash = execPath.lastIndexOf("/");
  const dir = slash <= 0 ? "/" : execPath.slice(0, slash);
  const base = execPath.slice(slash + 1);
  const candidate = fs.join(dir, `.${base}.candidate`);
  const previous = `${execPath}.prev`;
  await registry.install(release.name, {
    version: release.version,
    arch: options.arch,
    dir,
    file: `.${base}.candidate`,
  });
  if (!(await healthy(run, candidate, release.version, timeoutMs))) {
    await fs.remove(candidate).catch(() => false);
    throw new SelfUpdateError(
      "E_SELF_UPDATE_HEALTH",
      `release ${release.name}@${release.version} failed its health check (${candidate} --version did not ` +
        `answer "macula ${release.version} …" within ${timeoutMs} ms); the binary is unchanged`,
    );
  }
  if (options.node) {
    try {
      await checkCandidateNode(candidate, { ...options.node, fs, dir });
    } catch (error) {
      await fs.remove(candidate).catch(() => false);
      if (!(error instanceof HealthCheckError)) throw error;
      throw new SelfUpdateError(
        "E_SELF_UPDATE_HEALTH",
        `release ${release.name}@${release.version} failed its health check: ${error.message}; the binary is unchanged`,
      );
    }
  }
  const current = await fs.readFile(execPath);
  if (!current) throw new SelfUpdateError("E_SELF_UPDATE_BINARY", `cannot read the running binary ${execPath}`);
  await fs.writeFileAtomic(previous, current, 0o755);
  await fs.rename(candidate, execPath);
  await fs.syncDir(dir);
  if (!(await healthy(run, execPath, release.version, timeoutMs))) {
    await fs.rename(previous, execPath);
    await fs.syncDir(dir);
    throw new SelfUpdateError(
      "E_SELF_UPDATE_ROLLED_BACK",
      `the installed ${release.version} failed its health check; ${options.current} was put back`,
    );
  }
  const time = (options.now ?? Date.now)();
  await writePending(fs, execPath, { version: release.version, previous, time, attempts: 0 });
  return { updated: true, ...result, previous };
}
