/**
 * Persistence of replicated state: one snapshot file per map under
 * `<dir>/<realm>/<name>.state`, written atomically (temp file, fsync,
 * rename) a short while after changes, so a crash mid-write leaves the
 * previous snapshot whole. The file is a `delta` message with the vector,
 * read back through the one validating decoder.
 *
 * @module
 */
import type { FsApi } from "../platform/types.ts";
import { decodeStateMessage, encodeStateMessage } from "./messages.ts";
import type { Replica } from "./replica.ts";

/**
 * Snapshots of the maps of one node.
 *
 * @example
 * ```ts
 * import { StateStore } from "./store.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const store = new StateStore(currentPlatform().fs, "/tmp/macula-example/state");
 * ```
 */
export class StateStore {
  readonly #fs: FsApi;
  readonly #dir: string;

  /** Snapshots kept under `dir`. */
  constructor(fs: FsApi, dir: string) {
    this.#fs = fs;
    this.#dir = dir;
  }

  #path(realm: string, name: string): string {
    return this.#fs.join(this.#dir, realm, `${name}.state`);
  }

  /**
   * Load the snapshot of `realm`/`name` into `replica`. Resolves to `"none"`
   * without one, `"loaded"`, or `"corrupt"`: a file that does not decode is
   * moved aside to `<name>.state.corrupt` and the replica starts empty (peers
   * give the writes back on the next sync).
   */
  async load(realm: string, name: string, replica: Replica): Promise<"none" | "loaded" | "corrupt"> {
    const path = this.#path(realm, name);
    const bytes = await this.#fs.readFile(path);
    if (!bytes) return "none";
    let m;
    try {
      m = decodeStateMessage(bytes);
      if (m.t !== "delta" || m.realm !== realm || m.name !== name || !m.vector) throw new Error("not a snapshot");
    } catch {
      await this.#fs.rename(path, `${path}.corrupt`);
      return "corrupt";
    }
    replica.apply(m.entries, m.vector);
    return "loaded";
  }

  /** Write the snapshot of `replica` atomically. */
  async save(realm: string, name: string, replica: Replica): Promise<void> {
    await this.#fs.mkdir(this.#fs.join(this.#dir, realm), 0o700);
    const bytes = encodeStateMessage({ t: "delta", realm, name, entries: replica.all(), vector: replica.vector() });
    await this.#fs.writeFileAtomic(this.#path(realm, name), bytes, 0o600);
  }
}
