/**
 * Files for the Node platform, on `node:fs/promises`.
 *
 * @module
 */
import {
  chmod,
  type FileHandle as NodeFileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
} from "node:fs/promises";
import { constants } from "node:fs";
import process from "node:process";
import type { FileHandle, FsApi } from "../types.ts";

function isNotFound(error: unknown): boolean {
  return (error as { code?: string })?.code === "ENOENT";
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/** Positional access over a `node:fs/promises` file handle (pread/pwrite). */
class NodeFile implements FileHandle {
  #closed = false;

  constructor(private readonly file: NodeFileHandle) {}

  async readAt(buffer: Uint8Array, position: number): Promise<number> {
    let got = 0;
    while (got < buffer.length) {
      const { bytesRead } = await this.file.read(buffer, got, buffer.length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  }

  async writeAt(data: Uint8Array, position: number): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.file.write(data, off, data.length - off, position + off);
      off += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    await this.file.datasync();
  }

  async truncate(length: number): Promise<void> {
    await this.file.truncate(length);
  }

  async size(): Promise<number> {
    return (await this.file.stat()).size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.file.close();
  }
}

async function ignoreNotFound<T>(op: () => Promise<T>, otherwise: T): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (isNotFound(error)) return otherwise;
    throw error;
  }
}

async function syncDir(path: string): Promise<void> {
  try {
    const dir = await open(path, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // directory fsync is best-effort
  }
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
  async open(path, options) {
    const write = options.write ?? false;
    let flags = write ? (options.read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
    if (options.create || options.createNew) flags |= constants.O_CREAT;
    if (options.createNew) flags |= constants.O_EXCL;
    if (options.truncate) flags |= constants.O_TRUNC;
    return new NodeFile(await open(path, flags, options.mode ?? 0o600));
  },
  async rename(from, to) {
    await rename(from, to);
  },
  async remove(path, options) {
    const info = await ignoreNotFound(() => stat(path), null);
    if (!info) return false;
    await rm(path, { recursive: options?.recursive ?? false, force: false });
    return true;
  },
  readDir(path) {
    return ignoreNotFound(() => readdir(path), null);
  },
  stat(path) {
    return ignoreNotFound(async () => {
      const info = await stat(path);
      return { size: info.size, isFile: info.isFile(), isDirectory: info.isDirectory(), mtime: info.mtimeMs };
    }, null);
  },
  syncDir,
  readStream(path, chunkSize = 64 * 1024) {
    let file: NodeFileHandle | undefined;
    let position = 0;
    const close = async () => {
      const f = file;
      file = undefined;
      await f?.close();
    };
    return new ReadableStream<Uint8Array>({
      async start() {
        file = await open(path, "r");
      },
      async pull(controller) {
        const buffer = new Uint8Array(chunkSize);
        try {
          const { bytesRead } = await file!.read(buffer, 0, chunkSize, position);
          position += bytesRead;
          if (bytesRead === 0) {
            await close();
            controller.close();
          } else controller.enqueue(bytesRead === chunkSize ? buffer : buffer.slice(0, bytesRead));
        } catch (error) {
          await close();
          throw error;
        }
      },
      async cancel() {
        await close();
      },
    }, { highWaterMark: 0 });
  },
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
    await syncDir(dirname(path));
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
