/**
 * Files for the Node platform, on `node:fs/promises`.
 *
 * @module
 */
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import process from "node:process";
import type { FsApi } from "../types.ts";

function isNotFound(error: unknown): boolean {
  return (error as { code?: string })?.code === "ENOENT";
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/**
 * The data-directory file operations, with the same semantics as the Deno
 * platform's (atomic write: temp file, fsync, rename, best-effort dir fsync).
 *
 * @example
 * ```ts
 * import { nodeFs } from "./fs.ts";
 * await nodeFs.mkdir("/tmp/macula-example", 0o700);
 * await nodeFs.writeFileAtomic("/tmp/macula-example/a", new Uint8Array([1]), 0o600);
 * console.log(await nodeFs.fileMode("/tmp/macula-example/a")); // 384 (0o600)
 * ```
 */
export const nodeFs: FsApi = {
  async readFile(path) {
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  },
  async writeFileAtomic(path, data, mode) {
    const tmp = `${path}.tmp-${crypto.randomUUID()}`;
    const file = await open(tmp, "wx", mode);
    try {
      await file.writeFile(data);
      await file.datasync();
    } finally {
      await file.close();
    }
    try {
      await chmod(tmp, mode);
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => {});
      throw error;
    }
    try {
      const dir = await open(dirname(path), "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // directory fsync is best-effort
    }
  },
  async mkdir(path, mode) {
    await mkdir(path, { recursive: true, mode });
  },
  async fileMode(path) {
    try {
      return (await stat(path)).mode & 0o777;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  },
  join(...parts) {
    return parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/");
  },
  resolve(path) {
    return path.startsWith("/") ? path : `${process.cwd()}/${path}`.replace(/\/\.?\//g, "/");
  },
};
