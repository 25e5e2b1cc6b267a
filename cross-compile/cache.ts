/**
 * The build cache: pinned build tools and Node binaries from the npm
 * registry, kept outside the project (never project dependencies).
 *
 * Location: `$MACULA_BUILD_CACHE`, else `$XDG_CACHE_HOME/macula-build`, else
 * `~/.cache/macula-build`.
 *
 * @module
 */
import { BuildError } from "./errors.ts";
import { runOk, tail } from "./run.ts";
import type { Target } from "./targets.ts";

/** esbuild, pinned: bundles the TypeScript source to one CommonJS file. */
export const ESBUILD_VERSION = "0.25.12";
/** postject, pinned: injects the SEA blob into a Node binary. */
export const POSTJECT_VERSION = "1.0.0-alpha.6";

/**
 * The build cache directory.
 *
 * @example
 * ```ts
 * import { buildCacheDir } from "./cache.ts";
 * console.log(buildCacheDir()); // e.g. "/root/.cache/macula-build"
 * ```
 */
export function buildCacheDir(): string {
  const explicit = Deno.env.get("MACULA_BUILD_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/macula-build`;
  const home = Deno.env.get("HOME");
  if (!home) throw new BuildError("E_BUILD", "cannot place the build cache: set MACULA_BUILD_CACHE or HOME");
  return `${home}/.cache/macula-build`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Paths of the installed build tools. */
export interface Tools {
  esbuild: string;
  postject: string;
}

/**
 * Install esbuild and postject (pinned) into the build cache, once.
 *
 * @example
 * ```ts
 * import { buildCacheDir, installTools } from "./cache.ts";
 * const tools = await installTools(buildCacheDir());
 * console.log(tools.esbuild);
 * ```
 */
export async function installTools(cacheDir: string): Promise<Tools> {
  const dir = `${cacheDir}/tools/esbuild-${ESBUILD_VERSION}_postject-${POSTJECT_VERSION}`;
  const tools = { esbuild: `${dir}/node_modules/.bin/esbuild`, postject: `${dir}/node_modules/.bin/postject` };
  if (await exists(`${dir}/.complete`)) return tools;
  await Deno.mkdir(dir, { recursive: true });
  await runOk(`installing esbuild@${ESBUILD_VERSION} and postject@${POSTJECT_VERSION} from npm`, "npm", [
    "install",
    "--prefix",
    dir,
    "--no-save",
    "--no-package-lock",
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
    `esbuild@${ESBUILD_VERSION}`,
    `postject@${POSTJECT_VERSION}`,
  ], { cwd: dir });
  await Deno.writeTextFile(`${dir}/.complete`, "");
  return tools;
}

/**
 * The official Node binary of `target` (from its npm package), downloaded
 * and unpacked into the build cache once. Returns the path of `bin/node`.
 *
 * @example
 * ```ts
 * import { buildCacheDir, fetchNodeBinary } from "./cache.ts";
 * import { TARGETS } from "./targets.ts";
 * const node = await fetchNodeBinary(buildCacheDir(), TARGETS.armv7);
 * ```
 */
export async function fetchNodeBinary(cacheDir: string, target: Target): Promise<string> {
  const { package: pkg, version } = target.node;
  const dir = `${cacheDir}/node/${pkg}-${version}`;
  const node = `${dir}/node`;
  if (await exists(node)) return node;
  await Deno.mkdir(`${cacheDir}/node`, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: `${cacheDir}/node`, prefix: `.${pkg}-` });
  try {
    const packed = await runOk(`downloading ${pkg}@${version} from the npm registry`, "npm", [
      "pack",
      `${pkg}@${version}`,
      "--pack-destination",
      tmp,
      "--json",
    ], { cwd: tmp });
    let filename: string;
    try {
      filename = JSON.parse(packed.stdout)[0].filename;
    } catch {
      throw new BuildError("E_TOOL", `npm pack ${pkg}@${version} printed no file name: ${tail(packed.stdout)}`);
    }
    await runOk(`unpacking ${filename}`, "tar", ["-xzf", `${tmp}/${filename.replace(/^.*\//, "")}`, "-C", tmp]);
    await Deno.chmod(`${tmp}/package/bin/node`, 0o755);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.rename(`${tmp}/package/bin/node`, node);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return node;
}

/**
 * A stripped copy of a Node binary (symbols and debug info removed: about
 * 12 MB less), made once next to it. Uses `llvm-strip`, or a `strip` that
 * knows the architecture (Debian's `binutils-multiarch`); when neither
 * works, returns the unstripped binary and says why in `note`.
 */
export async function strippedNode(node: string): Promise<{ path: string; note?: string }> {
  const stripped = `${node}.stripped`;
  if (await exists(stripped)) return { path: stripped };
  const errors: string[] = [];
  for (const tool of ["llvm-strip", "strip"]) {
    const tmp = `${stripped}.tmp`;
    try {
      await runOk(`stripping ${node}`, tool, ["-o", tmp, node]);
      await Deno.rename(tmp, stripped);
      return { path: stripped };
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      errors.push((error as Error).message);
    }
  }
  return { path: node, note: `not stripped (${errors.join("; ")}); install llvm or binutils-multiarch` };
}
