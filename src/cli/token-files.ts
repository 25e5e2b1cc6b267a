/**
 * The capability chains a node holds: `<data-dir>/ucan/*.ucan` and the
 * `--ucan` files, each the container text of one chain (root first), as
 * `macula ucan issue` and `macula namespace delegate` write them. A file
 * that cannot be read or is not a chain is a `ConfigError` naming the file
 * and the UCAN error.
 *
 * @module
 */
import type { FsApi } from "../platform/types.ts";
import { type Delegation, parseChain } from "../ucan/mod.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { ConfigError } from "./config-error.ts";

/** The folder of token files inside the data dir. */
export const UCAN_DIR = "ucan";

/** A chain read from a file. */
export interface TokenFile {
  path: string;
  /** Delegations, root first. */
  chain: Delegation[];
}

/** Largest token file, bytes. */
const MAX_FILE = 1024 * 1024;

/** Read one token file (`ConfigError` if it cannot be read or holds no valid chain). */
export async function readTokenFile(fs: FsApi, path: string): Promise<TokenFile> {
  let bytes: Uint8Array | null;
  try {
    const info = await fs.stat(path);
    if (info && !info.isFile) throw new Error("not a file");
    if (info && info.size > MAX_FILE) throw new Error(`over ${MAX_FILE} bytes: not a token file`);
    bytes = await fs.readFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read token file ${path}: ${(error as Error).message.split("\n")[0]}`, {
      cause: error,
    });
  }
  if (bytes === null) throw new ConfigError(`cannot read token file ${path}: no such file`);
  try {
    return { path, chain: parseChain(fromUtf8(bytes)) };
  } catch (error) {
    throw new ConfigError(`invalid token file ${path}: ${(error as Error).message.split("\n")[0]}`, {
      cause: error,
    });
  }
}

/**
 * Every chain the node holds: `<dataDir>/ucan/*.ucan` (in name order), then
 * `files`.
 *
 * @example
 * ```ts
 * import { loadTokenFiles } from "./token-files.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const held = await loadTokenFiles(currentPlatform().fs, ".macula", []);
 * held.map((t) => t.path);
 * ```
 */
export async function loadTokenFiles(fs: FsApi, dataDir: string, files: readonly string[]): Promise<TokenFile[]> {
  const dir = fs.join(dataDir, UCAN_DIR);
  let names: string[] | null;
  try {
    names = await fs.readDir(dir);
  } catch (error) {
    throw new ConfigError(`cannot read ${dir}: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
  const paths = (names ?? []).filter((n) => n.endsWith(".ucan")).sort().map((n) => fs.join(dir, n));
  for (const f of files) if (!paths.includes(f)) paths.push(f);
  const out: TokenFile[] = [];
  for (const path of paths) out.push(await readTokenFile(fs, path));
  return out;
}
