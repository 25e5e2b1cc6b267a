/**
 * Rollback after the restart. A self-update leaves `<binary>.pending`
 * (JSON: the new version, the previous binary's path, the time, and the
 * number of starts so far). At start the node calls `checkPending`:
 *
 * - no marker: nothing to do;
 * - a marker for another version (the old binary runs again, or a stale
 *   marker): it is removed;
 * - a marker for this version with no start yet: `attempts` becomes 1 and
 *   the node must become ready within the bound, then `confirmPending`
 *   removes the marker (else `rollBack` runs);
 * - a marker for this version already started once (it crashed or hung
 *   before it was ready, and systemd restarted it): `rollBack` restores
 *   `.prev` over the binary and removes the marker; the caller exits with
 *   `EXIT_RESTART` so that systemd starts the old binary.
 *
 * @module
 */
import type { FsApi } from "../platform/types.ts";
import { MaculaError } from "../util/errors.ts";

/** What `<binary>.pending` holds. */
export interface PendingUpdate {
  /** The version just installed. */
  version: string;
  /** Where the previous binary was kept. */
  previous: string;
  /** When it was installed (ms since the epoch). */
  time: number;
  /** How many times the new version has started. */
  attempts: number;
}

/** What `checkPending` decided. */
export type PendingAction =
  | { action: "none" }
  | { action: "cleared"; marker: PendingUpdate }
  | { action: "confirm"; marker: PendingUpdate }
  | { action: "rolled-back"; marker: PendingUpdate };

/** A marker or rollback that cannot be used (`E_SELF_UPDATE_PENDING`, `E_SELF_UPDATE_ROLLBACK`). */
export class PendingUpdateError extends MaculaError {}

/** The marker's path for `execPath`. */
export function pendingPath(execPath: string): string {
  return `${execPath}.pending`;
}

/** Parse a marker; bad JSON or fields are `PendingUpdateError` (`E_SELF_UPDATE_PENDING`). */
export function parsePending(bytes: Uint8Array): PendingUpdate {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new PendingUpdateError("E_SELF_UPDATE_PENDING", `unreadable pending marker: ${(error as Error).message}`);
  }
  const m = v as Partial<PendingUpdate> | null;
  if (
    typeof m !== "object" || m === null || Array.isArray(m) ||
    typeof m.version !== "string" || m.version === "" || m.version.length > 64 ||
    typeof m.previous !== "string" || m.previous === "" || m.previous.length > 4096 ||
    typeof m.time !== "number" || !Number.isFinite(m.time) ||
    typeof m.attempts !== "number" || !Number.isInteger(m.attempts) || m.attempts < 0
  ) {
    throw new PendingUpdateError(
      "E_SELF_UPDATE_PENDING",
      "pending marker: expected {version, previous, time, attempts: integer >= 0}",
    );
  }
  return { version: m.version, previous: m.previous, time: m.time, attempts: m.attempts };
}

/** Write the marker (after the swap). */
export async function writePending(fs: FsApi, execPath: string, marker: PendingUpdate): Promise<void> {
  await fs.writeFileAtomic(pendingPath(execPath), new TextEncoder().encode(JSON.stringify(marker) + "\n"), 0o644);
}

/** Restore the previous binary over `execPath` and remove the marker. */
export async function rollBack(fs: FsApi, execPath: string, marker: PendingUpdate): Promise<void> {
  if (!(await fs.stat(marker.previous))) {
    await fs.remove(pendingPath(execPath)).catch(() => false);
    throw new PendingUpdateError(
      "E_SELF_UPDATE_ROLLBACK",
      `cannot roll back ${marker.version}: the previous binary ${marker.previous} is gone`,
    );
  }
  await fs.rename(marker.previous, execPath);
  await fs.remove(pendingPath(execPath)).catch(() => false);
  await fs.syncDir(fs.resolve(`${execPath}/..`));
}

/** The node became ready: the update is kept. */
export async function confirmPending(fs: FsApi, execPath: string): Promise<void> {
  await fs.remove(pendingPath(execPath)).catch(() => false);
}

/**
 * At start: look at `<execPath>.pending` for `version` (see the module doc).
 * An unreadable marker is removed and reported as `none`.
 *
 * @example
 * ```ts
 * import { checkPending } from "./pending.ts";
 * declare const fs: import("../platform/types.ts").FsApi;
 * const r = await checkPending(fs, "/var/lib/macula/bin/macula", "0.2.0");
 * if (r.action === "rolled-back") console.log(`back to the binary before ${r.marker.version}`);
 * ```
 */
export async function checkPending(fs: FsApi, execPath: string, version: string): Promise<PendingAction> {
  const bytes = await fs.readFile(pendingPath(execPath));
  if (!bytes) return { action: "none" };
  let marker: PendingUpdate;
  try {
    marker = parsePending(bytes);
  } catch {
    await fs.remove(pendingPath(execPath)).catch(() => false);
    return { action: "none" };
  }
  if (marker.version !== version) {
    await fs.remove(pendingPath(execPath)).catch(() => false);
    return { action: "cleared", marker };
  }
  if (marker.attempts >= 1) {
    await rollBack(fs, execPath, marker);
    return { action: "rolled-back", marker };
  }
  marker = { ...marker, attempts: marker.attempts + 1 };
  await writePending(fs, execPath, marker);
  return { action: "confirm", marker };
}
