/**
 * Atomic installation of a verified artifact: the bytes go to a temp file
 * in the target directory while being hashed again, the temp file is
 * fsynced, its content id compared with the release's, and only then
 * renamed over the target (and the directory synced). A reader of the
 * target sees the old file or the whole new one, never a part; a failure
 * leaves no temp file behind.
 *
 * @module
 */
import { Mcid } from "../content/mcid.ts";
import { TreeBuilder } from "../content/tree.ts";
import type { FsApi } from "../platform/types.ts";
import { ArtifactMismatchError, InstallError } from "./errors.ts";

/** File mode of installed artifacts (executable). */
export const INSTALL_MODE = 0o755;

/** The safe file name of `name@version` (names and versions carry no `/`). */
export function installFileName(name: string, version: string): string {
  return `${name}@${version}`.replace(/[^A-Za-z0-9._@+-]/g, "_");
}

/**
 * Write `bytes` to `path` atomically after checking they hash to `mcid`.
 * Throws `ArtifactMismatchError` if they do not (nothing is installed),
 * `InstallError` when the directory cannot be written.
 *
 * @example
 * ```ts
 * import { installAtomically } from "./install.ts";
 * declare const fs: import("../platform/types.ts").FsApi;
 * declare const bytes: ReadableStream<Uint8Array>;
 * await installAtomically(fs, "/opt/apps/io.acme.agent@1.4.0", bytes, "b…");
 * ```
 */
export async function installAtomically(
  fs: FsApi,
  path: string,
  bytes: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  mcid: string,
  mode: number = INSTALL_MODE,
): Promise<void> {
  const expected = Mcid.parse(mcid);
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.part`;
  try {
    await fs.mkdir(dir, 0o755);
  } catch (error) {
    throw new InstallError(`cannot create ${dir}: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
  let handle;
  try {
    handle = await fs.open(temp, { write: true, createNew: true, mode });
  } catch (error) {
    throw new InstallError(`cannot write in ${dir}: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
  let done = false;
  try {
    const tree = await TreeBuilder.create(expected.codec);
    let offset = 0;
    for await (const chunk of bytes) {
      if (offset + chunk.length > expected.size) {
        throw new ArtifactMismatchError(`artifact for ${path} is longer than the release's ${expected.size} bytes`);
      }
      tree.push(chunk);
      await handle.writeAt(chunk, offset);
      offset += chunk.length;
    }
    const got = tree.finish().mcid;
    if (!got.equals(expected)) {
      throw new ArtifactMismatchError(
        `artifact for ${path} hashes to ${got} (${got.size} bytes), not the release's ${mcid}: refused`,
      );
    }
    await handle.sync();
    await handle.close();
    await fs.rename(temp, path);
    await fs.syncDir(dir);
    done = true;
  } finally {
    if (!done) {
      await handle.close().catch(() => {});
      await fs.remove(temp).catch(() => false);
    }
  }
}
