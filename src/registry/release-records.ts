/**
 * The releases a registry knows: those published here (persisted, one file
 * per record under the registry dir, written atomically) and those fetched
 * from the mesh (kept in memory; fetched again after a restart).
 *
 * @module
 */
import type { FsApi } from "../platform/types.ts";
import { decodeRelease, encodeRelease, type Release } from "./release.ts";
import { installFileName } from "./install.ts";

/** A release's identity: the same name, version and arch by the same issuer is one release. */
function keyOf(r: Release): string {
  return `${r.name}|${r.version}|${r.arch}|${r.issuer}`;
}

/** Known releases by key, with the content ids of records fetched. */
export class ReleaseRecords {
  #byKey = new Map<string, Release>();
  #fetched = new Set<string>();

  /** Records persist under `dir` when both are given. */
  constructor(readonly fs?: FsApi, readonly dir?: string) {}

  /** Read the persisted records (unreadable ones are skipped). */
  async load(): Promise<Release[]> {
    const { fs, dir } = this;
    if (!fs || !dir) return [];
    const loaded: Release[] = [];
    for (const file of (await fs.readDir(dir)) ?? []) {
      if (!file.endsWith(".rel")) continue;
      const bytes = await fs.readFile(fs.join(dir, file));
      if (!bytes) continue;
      try {
        const r = decodeRelease(bytes);
        this.#byKey.set(keyOf(r), r);
        loaded.push(r);
      } catch { /* a damaged file is ignored; its release can be published again */ }
    }
    return loaded;
  }

  /** Keep `r` (the newer of two for one key); `persist` writes it to disk; `recordId` is the content it came from. */
  async add(r: Release, persist: boolean, recordId?: string): Promise<void> {
    if (recordId) this.#fetched.add(recordId);
    const key = keyOf(r);
    const have = this.#byKey.get(key);
    if (have && have.issued >= r.issued) return;
    this.#byKey.set(key, r);
    const { fs, dir } = this;
    if (persist && fs && dir) {
      await fs.mkdir(dir, 0o700);
      const file = `${installFileName(r.name, r.version)}.${r.arch}.${r.issuer.slice(-12)}.rel`;
      await fs.writeFileAtomic(fs.join(dir, file), encodeRelease(r), 0o600);
    }
  }

  /** Whether the record with content id `id` was fetched already. */
  hasRecord(id: string): boolean {
    return this.#fetched.has(id);
  }

  /** The releases of `name`. */
  of(name: string): Release[] {
    return [...this.#byKey.values()].filter((r) => r.name === name);
  }

  /** Every release. */
  all(): Release[] {
    return [...this.#byKey.values()];
  }
}
