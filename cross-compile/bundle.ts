/**
 * Bundles `main.ts` to one CommonJS file for Node with esbuild, without
 * changing the project's Deno-native dependency setup: the npm packages are
 * taken from Deno's own npm cache (located with `deno info --json`, which
 * honours the frozen lockfile), exposed to esbuild through a throwaway
 * `node_modules` folder of symlinks on `NODE_PATH`.
 *
 * @module
 */
import { BuildError } from "./errors.ts";
import { runOk } from "./run.ts";
import { NODE_BUNDLE_TARGET } from "./targets.ts";

/** The entry of the Node bundle, relative to the project root. */
export const NODE_ENTRY = "cross-compile/node_main.ts";

interface DenoInfo {
  modules?: { kind?: string; npmPackage?: string; dependencies?: { specifier: string }[] }[];
  npmPackages?: Record<string, { name: string; version: string; dependencies?: string[]; localPath?: string }>;
}

/**
 * The npm packages `entry`'s module graph reaches: its npm modules and their
 * dependencies, transitively. (`deno info` lists every package the lockfile
 * resolves, test-only ones included.)
 */
export function reachableNpmPackages(info: DenoInfo): NonNullable<DenoInfo["npmPackages"]>[string][] {
  const all = info.npmPackages ?? {};
  const todo = (info.modules ?? []).flatMap((m) => m.kind === "npm" && m.npmPackage ? [m.npmPackage] : []);
  const seen = new Set<string>();
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (seen.has(id) || !all[id]) continue;
    seen.add(id);
    todo.push(...all[id].dependencies ?? []);
  }
  return [...seen].map((id) => all[id]);
}

/**
 * esbuild aliases for the `npm:` specifiers written in source: the package
 * part (`npm:@noble/curves@2.4.0`) → the bare name (`@noble/curves`), which
 * esbuild finds on `NODE_PATH`; a subpath (`/ed25519.js`) carries over.
 */
export function npmAliases(specifiers: Iterable<string>): string[] {
  const aliases = new Set<string>();
  for (const specifier of specifiers) {
    const m = /^(npm:\/?((?:@[^/]+\/)?[^@/]+)(?:@[^/]+)?)(\/.*)?$/.exec(specifier);
    if (m) aliases.add(`--alias:${m[1]}=${m[2]}`);
  }
  return [...aliases].sort();
}

/**
 * Check that every import-map entry resolves the same way for esbuild: an
 * `npm:` entry whose key is the bare package path of its value (e.g.
 * `"cbor-x/index-no-eval": "npm:cbor-x@1.6.8/index-no-eval"`).
 */
export function checkImportMap(imports: Record<string, string>): void {
  for (const [key, value] of Object.entries(imports)) {
    const m = /^npm:\/?((?:@[^/]+\/)?[^@/]+)(?:@[^/]+)?(\/.*)?$/.exec(value);
    if (!m) {
      throw new BuildError("E_BUILD", `import map entry ${key} → ${value}: only npm: packages can be bundled for Node`);
    }
    const bare = `${m[1]}${m[2] ?? ""}`;
    if (bare !== key) {
      throw new BuildError(
        "E_BUILD",
        `import map entry ${key} → ${value}: the key must equal "${bare}" to bundle for Node`,
      );
    }
  }
}

/**
 * Make `<dir>/node_modules/<name>` symlinks to every npm package of the
 * module graph of `entry`, as cached by Deno.
 */
async function linkNpmPackages(
  root: string,
  entry: string,
  dir: string,
): Promise<{ nodePath: string; aliases: string[] }> {
  const { stdout } = await runOk(`resolving npm packages (deno info --json ${entry})`, Deno.execPath(), [
    "info",
    "--json",
    entry,
  ], { cwd: root, env: { NO_COLOR: "1" } });
  const info = JSON.parse(stdout) as DenoInfo;
  const modules = `${dir}/node_modules`;
  await Deno.mkdir(modules, { recursive: true });
  const seen = new Map<string, string>();
  for (const pkg of reachableNpmPackages(info)) {
    if (!pkg.localPath) {
      throw new BuildError("E_BUILD", `npm package ${pkg.name}@${pkg.version} is not in Deno's cache`);
    }
    const other = seen.get(pkg.name);
    if (other && other !== pkg.version) {
      throw new BuildError("E_BUILD", `two versions of ${pkg.name} (${other}, ${pkg.version}) cannot share NODE_PATH`);
    }
    seen.set(pkg.name, pkg.version);
    if (pkg.name.includes("/")) await Deno.mkdir(`${modules}/${pkg.name.split("/")[0]}`, { recursive: true });
    await Deno.symlink(pkg.localPath, `${modules}/${pkg.name}`);
  }
  const specifiers = (info.modules ?? []).flatMap((m) => (m.dependencies ?? []).map((d) => d.specifier));
  return { nodePath: modules, aliases: npmAliases(specifiers) };
}

/**
 * Bundle `root/cross-compile/node_main.ts` (which installs the Node
 * platform, then runs `main.ts`), or `entry` (relative to `root`), into
 * `outFile` (CommonJS for Node 20.11+).
 * `import.meta.main` is defined true (the bundle is always the program).
 *
 * @example
 * ```ts
 * import { bundleForNode } from "./bundle.ts";
 * await bundleForNode({ root: ".", esbuild: "/path/to/esbuild", outFile: "/tmp/macula.cjs" });
 * ```
 */
export async function bundleForNode(
  options: { root: string; esbuild: string; outFile: string; entry?: string },
): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(`${options.root}/deno.json`)) as {
    imports?: Record<string, string>;
  };
  checkImportMap(config.imports ?? {});
  const stamp = Deno.env.get("MACULA_BUILD_VERSION");
  if (stamp !== undefined && !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(stamp)) {
    throw new Error(`MACULA_BUILD_VERSION ${JSON.stringify(stamp)} is not a version (1.2.3)`);
  }
  const scratch = await Deno.makeTempDir({ prefix: "macula-bundle-" });
  try {
    const entry = options.entry ?? NODE_ENTRY;
    const { nodePath, aliases } = await linkNpmPackages(options.root, entry, scratch);
    await runOk(`bundling ${entry} for Node (esbuild)`, options.esbuild, [
      entry,
      "--bundle",
      "--platform=node",
      "--format=cjs",
      `--target=${NODE_BUNDLE_TARGET}`,
      "--define:import.meta.main=true",
      // A version stamped at build time (e.g. a second build for the self-update test), else src/version.ts's.
      ...(stamp ? [`--define:globalThis.__MACULA_BUILD_VERSION__=${JSON.stringify(stamp)}`] : []),
      // npm ws tries its optional native helpers with require(); a single executable warns on any require() of a
      // non-built-in module, so the bundle skips them (ws falls back to its JavaScript).
      '--define:process.env.WS_NO_BUFFER_UTIL="1"',
      '--define:process.env.WS_NO_UTF_8_VALIDATE="1"',
      "--keep-names",
      "--log-level=warning",
      ...aliases,
      `--outfile=${options.outFile}`,
    ], { cwd: options.root, env: { NODE_PATH: nodePath } });
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}
