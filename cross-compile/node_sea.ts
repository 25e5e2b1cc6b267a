/**
 * The Node path: a Node single executable application (SEA) per target.
 * The official Node binary of the target (npm registry) makes its own SEA
 * blob from the bundle — natively, or under qemu — so the blob always comes
 * from exactly the Node version and word size that will run it; postject
 * then injects the blob into a stripped copy of that binary.
 *
 * @module
 */
import { fetchNodeBinary, strippedNode, type Tools } from "./cache.ts";
import { runnerFor } from "./emulation.ts";
import { BuildError } from "./errors.ts";
import { run, runOk, tail } from "./run.ts";
import type { Target } from "./targets.ts";

/** The fuse Node's SEA support looks for (Node 20+). */
export const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** What a Node SEA build of one target needs. */
export interface NodeSeaOptions {
  target: Target;
  /** The CommonJS bundle. */
  bundle: string;
  /** Where to write the executable. */
  outFile: string;
  /** A scratch folder for this target. */
  workDir: string;
  cacheDir: string;
  tools: Tools;
  log: (line: string) => void;
}

/**
 * Build the Node single executable of one target and check that it starts
 * (`--version`, natively or under qemu).
 *
 * @example
 * ```ts
 * import { buildNodeSea } from "./node_sea.ts";
 * import { TARGETS } from "./targets.ts";
 * declare const tools: import("./cache.ts").Tools;
 * await buildNodeSea({
 *   target: TARGETS.armv7, bundle: "/tmp/macula.cjs", outFile: "dist/macula-0.1.0-linux-armv7",
 *   workDir: "/tmp/armv7", cacheDir: "/root/.cache/macula-build", tools, log: console.log,
 * });
 * ```
 */
export async function buildNodeSea(options: NodeSeaOptions): Promise<void> {
  const { target, log } = options;
  const runner = runnerFor(target.arch);
  if ("reason" in runner) {
    throw new BuildError(
      "E_TOOL",
      `cannot build the ${target.arch} executable: its SEA blob must be made by the ${target.arch} Node, ` +
        `which cannot run here: ${runner.reason}`,
    );
  }
  const label = `${target.node.package}@${target.node.version}`;
  log(`[${target.arch} node] fetching ${label}`);
  const node = await fetchNodeBinary(options.cacheDir, target);
  const base = await strippedNode(node);
  if (base.note) log(`[${target.arch} node] note: ${base.note}`);

  await Deno.mkdir(options.workDir, { recursive: true });
  const blob = `${options.workDir}/sea.blob`;
  const config = `${options.workDir}/sea-config.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      main: options.bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      // Code caches are V8 bytecode for one architecture and measured no
      // faster to start here; the blob stays architecture-neutral.
      useCodeCache: false,
    }),
  );
  log(`[${target.arch} node] making the SEA blob with ${label}${runner.emulated ? " under qemu" : ""}`);
  const [cmd, ...args] = runner.argv(node, ["--experimental-sea-config", config]);
  await runOk(`making the ${target.arch} SEA blob`, cmd, args, { cwd: options.workDir, env: runner.env });

  const tmp = `${options.outFile}.tmp`;
  await Deno.copyFile(base.path, tmp);
  try {
    log(`[${target.arch} node] injecting the blob (postject)`);
    await runOk(`injecting the ${target.arch} SEA blob (postject)`, options.tools.postject, [
      tmp,
      "NODE_SEA_BLOB",
      blob,
      "--sentinel-fuse",
      SEA_FUSE,
    ]);
    await Deno.chmod(tmp, 0o755);
    const [vcmd, ...vargs] = runner.argv(tmp, ["--version"]);
    const v = await run(vcmd, vargs, { env: runner.env });
    if (v.code !== 0 || !v.stdout.includes(`linux-${target.arch}`)) {
      throw new BuildError(
        "E_BUILD",
        `the ${target.arch} executable does not start: ${tail(v.stderr || v.stdout) || `exit ${v.code}`}`,
      );
    }
    await Deno.rename(tmp, options.outFile);
    log(`[${target.arch} node] ${v.stdout.trim()}`);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
