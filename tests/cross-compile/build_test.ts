/**
 * The single binaries, for real: the Node-path executables of all three
 * architectures are built, checked (ELF machine, sums), run (x86_64
 * natively, aarch64 and armv7 under qemu), and connected to a native node.
 * The Deno path is built and run when a denort runtime is supplied.
 */
import { build } from "../../cross-compile/build.ts";
import { currentDeno, denortCachePath, denortUrl, locateDenort } from "../../cross-compile/deno_compile.ts";
import { readElf } from "../../cross-compile/elf.ts";
import { runnerFor } from "../../cross-compile/emulation.ts";
import { BuildError } from "../../cross-compile/errors.ts";
import { launch, type MaculaProcess } from "../../cross-compile/launch.ts";
import { readDeclaredPermissions } from "../../cross-compile/permissions.ts";
import { run } from "../../cross-compile/run.ts";
import { sha256File } from "../../cross-compile/sums.ts";
import { type Arch, ARCHES, binaryName, hostArch, sumsName, TARGETS } from "../../cross-compile/targets.ts";
import { VERSION } from "../../src/version.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eventually, ignoreWithReason, nodeBuildFor, nodeBuildUnavailable, ROOT, TEST_NODE_ENV } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const DID = /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/;

function runnerIsEmulated(arch: Arch): boolean {
  const runner = runnerFor(arch);
  return !("reason" in runner) && runner.emulated;
}

/** Run a built binary (natively or under qemu) to completion. */
async function runBinary(arch: Arch, binary: string, args: string[]) {
  const runner = runnerFor(arch);
  if ("reason" in runner) throw new Error(runner.reason);
  const [cmd, ...rest] = runner.argv(binary, args);
  return await run(cmd, rest, { env: runner.env });
}

function startBinary(arch: Arch, binary: string, args: string[]): Promise<MaculaProcess> {
  const runner = runnerFor(arch);
  if ("reason" in runner) throw new Error(runner.reason);
  return launch(runner.argv(binary, ["start", "--host", "127.0.0.1", "--port", "0", "--health-port", "0", ...args]), {
    env: { ...TEST_NODE_ENV, ...runner.env },
    timeoutMs: 90_000,
  });
}

for (const arch of ARCHES) {
  const unavailable = nodeBuildUnavailable(arch);
  Deno.test({
    name: `node path: the ${arch} executable is an ELF of its architecture, listed in the SHA-256 sums`,
    ignore: ignoreWithReason(`${arch} executable`, unavailable),
    ...opts,
    async fn() {
      const b = await nodeBuildFor(arch);
      if (b.seconds) console.log(`built ${b.arches.join(", ")} in ${b.seconds.toFixed(1)} s`);
      const sums = await Deno.readTextFile(`${b.outDir}/${sumsName(VERSION)}`);
      const path = b.path(arch);
      const elf = await readElf(path);
      assertEquals(elf?.arch, arch, `${path} is an ELF for ${arch}`);
      assertEquals(elf?.bits, TARGETS[arch].elf.bits);
      const size = (await Deno.stat(path)).size;
      console.log(`${binaryName(VERSION, arch)}: ${(size / 1e6).toFixed(1)} MB`);
      assert(size < 100e6, `${arch} binary is ${size} bytes`);
      assert(sums.includes(`${await sha256File(path)}  ${binaryName(VERSION, arch)}\n`), `${arch} in the sums file`);
    },
  });

  Deno.test({
    name: `node path: \`--version\`, \`id --data-dir\` and a usage error on ${arch}${
      runnerIsEmulated(arch) ? " (qemu)" : ""
    }`,
    ignore: ignoreWithReason(`${arch} --version/id`, unavailable),
    ...opts,
    async fn() {
      const b = await nodeBuildFor(arch);
      const data = await Deno.makeTempDir({ prefix: "macula-id-" });
      try {
        const v = await runBinary(arch, b.path(arch), ["--version"]);
        assertEquals(v.code, 0, v.stderr);
        assertEquals(v.stdout.trim(), `macula ${VERSION} (linux-${arch}, node ${TARGETS[arch].node.version}, no QUIC)`);
        const dir = `${data}/${arch}`;
        const first = await runBinary(arch, b.path(arch), ["id", "--data-dir", dir]);
        assertEquals(first.code, 0, first.stderr);
        const did = first.stdout.trim();
        assert(DID.test(did), did);
        assertEquals((await Deno.stat(`${dir}/identity.key`)).mode! & 0o777, 0o600);
        assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
        const again = await runBinary(arch, b.path(arch), ["id", "--data-dir", dir]);
        assertEquals(again.stdout.trim(), did, `${arch}: the identity is kept`);
        const bad = await runBinary(arch, b.path(arch), ["start", "--port", "99999"]);
        assertEquals(bad.code, 2);
        assert(bad.stderr.trim().startsWith("macula: ") && bad.stderr.includes("--port"), bad.stderr);
      } finally {
        await Deno.remove(data, { recursive: true });
      }
    },
  });
}

for (const arch of ["armv7", "aarch64"] as const) {
  Deno.test({
    name: `node path: the ${arch} binary (qemu) connects to a native x86_64 node over TCP+Noise`,
    ignore: ignoreWithReason(
      `${arch} connection`,
      hostArch() === arch ? `this host is ${arch}: nothing to emulate` : nodeBuildUnavailable(arch),
    ),
    ...opts,
    async fn() {
      const b = await nodeBuildFor(arch);
      const scratch = `.macula/test-binaries-${crypto.randomUUID().slice(0, 8)}`;
      const data = await Deno.makeTempDir({ prefix: "macula-connect-" });
      const permissions = await readDeclaredPermissions(ROOT);
      let board: MaculaProcess | undefined;
      let native: MaculaProcess | undefined;
      try {
        native = await launch([
          Deno.execPath(),
          "run",
          ...permissions,
          "main.ts",
          "start",
          "--data-dir",
          scratch,
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--health-port",
          "0",
        ], { cwd: ROOT, env: TEST_NODE_ENV });
        const status = (await native.get("/status")) as { id: string; addrs: string[] };
        const seed = status.addrs.find((a) => a.startsWith("tcp://127.0.0.1:"));
        assert(seed?.endsWith(status.id), `a TCP address: ${status.addrs}`);
        board = await startBinary(arch, b.path(arch), ["--data-dir", `${data}/${arch}`, "--seed", seed!]);
        const s = (await board.get("/status")) as { id: string; runtime: string };
        assert(s.runtime.startsWith("node 20.") && s.runtime.endsWith(`linux-${arch}`), s.runtime);
        console.log(`${arch} (qemu) ready in ${board.readyMs.toFixed(0)} ms`);
        const hub = native;
        await eventually(
          async () => {
            const peers = (await hub.get("/peers")) as Array<{ id: string; transport: string }>;
            return peers.some((p) => p.id === s.id && p.transport === "tcp");
          },
          60_000,
          `the native node to list ${arch}`,
        );
        // The board's own CLI (fetch under Node) sees the native node.
        const peers = await runBinary(arch, b.path(arch), [
          "peers",
          "--json",
          "--health-port",
          String(board.healthPort),
        ]);
        assertEquals(peers.code, 0, peers.stderr);
        const list = JSON.parse(peers.stdout) as Array<{ id: string; transport: string; direction: string }>;
        assert(
          list.some((p) => p.id === status.id && p.transport === "tcp" && p.direction === "outbound"),
          peers.stdout,
        );
        assertEquals(await board.stop("SIGTERM"), 0, `${arch} exits cleanly`);
        assert(board.lines.some((l) => l.includes("node stopped")), board.lines.join("\n"));
        assertEquals(await native.stop("SIGINT"), 0);
      } finally {
        await board?.stop("SIGKILL");
        await native?.stop("SIGKILL");
        await Deno.remove(data, { recursive: true }).catch(() => {});
        await Deno.remove(`${ROOT}/${scratch}`, { recursive: true }).catch(() => {});
      }
    },
  });
}

/** Why no x86_64 denort can be had here (none supplied, cached, or downloadable), or undefined. */
async function denortUnavailable(arch: Arch, options: { denortBin?: string } = {}): Promise<string | undefined> {
  try {
    await locateDenort(TARGETS[arch], await currentDeno(), options);
    return undefined;
  } catch (error) {
    if (error instanceof BuildError && error.code === "E_NO_DENORT") return error.message;
    throw error;
  }
}

const noDenortX86 = await denortUnavailable("x86_64");
const noDenortAarch64 = await denortUnavailable("aarch64", { denortBin: "" });

Deno.test({
  name: "deno path: compile and run the x86_64 binary when a denort runtime is supplied",
  ignore: ignoreWithReason("deno path compile and run", noDenortX86),
  ...opts,
  async fn() {
    const deno = await currentDeno();
    const out = await Deno.makeTempDir({ prefix: "macula-deno-build-" });
    const cwd = await Deno.makeTempDir({ prefix: "macula-deno-run-" });
    try {
      const result = await build({ root: ROOT, outDir: out, arches: ["x86_64"], runtime: "deno", log: () => {} });
      const binary = result.binaries[0].path;
      const v = await run(binary, ["--version"]);
      assertEquals(v.stdout.trim(), `macula ${VERSION} (linux-x86_64, deno ${deno.version})`);
      // The embedded scope is `.macula` relative to the working directory.
      const id = await run(binary, ["id"], { cwd });
      assertEquals(id.code, 0, id.stderr);
      assert(DID.test(id.stdout.trim()), id.stdout);
      const outside = await run(binary, ["id", "--data-dir", `${cwd}/elsewhere`], { cwd });
      assertEquals(outside.code, 1);
      assert(outside.stderr.startsWith("macula: permission denied:"), outside.stderr);
      const node = await launch([binary, "start", "--host", "127.0.0.1", "--port", "0", "--health-port", "0"], {
        cwd,
        env: TEST_NODE_ENV,
      });
      try {
        const status = (await node.get("/status")) as { addrs: string[] };
        assert(status.addrs.some((a) => a.startsWith("quic://")), `QUIC in the compiled binary: ${status.addrs}`);
        assertEquals(await node.stop("SIGTERM"), 0);
      } finally {
        await node.stop("SIGKILL");
      }
    } finally {
      await Deno.remove(out, { recursive: true }).catch(() => {});
      await Deno.remove(cwd, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "deno path: with no runtime and no download host, `deno task build` fails fast naming what to fetch and where",
  ignore: ignoreWithReason(
    "deno path fails fast",
    noDenortAarch64 === undefined
      ? "a denort for aarch64 is available here, so the failure cannot be shown"
      : undefined,
  ),
  ...opts,
  async fn() {
    const target = TARGETS.aarch64;
    const deno = await currentDeno();
    const env = Deno.env.toObject();
    delete env.DENORT_BIN;
    const out = await Deno.makeTempDir({ prefix: "macula-out-" });
    try {
      const t0 = performance.now();
      const r = await run(Deno.execPath(), ["task", "build", "--target", "aarch64", "--out", out], {
        cwd: ROOT,
        env: { ...env, NO_COLOR: "1" },
        clearEnv: true,
      });
      const seconds = (performance.now() - t0) / 1000;
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
      assertEquals(r.code, 1, r.stderr);
      assertEquals(lines.length, 1, r.stderr);
      const url = denortUrl(deno.version, target.denoTriple!);
      assert(lines[0].startsWith(`build: no Deno runtime for ${target.denoTriple}`), lines[0]);
      assert(lines[0].includes(url), lines[0]);
      assert(lines[0].includes(denortCachePath(deno.denoDir, deno.version, target.denoTriple!)), lines[0]);
      assert(lines[0].includes("DENORT_BIN") && lines[0].includes("--runtime node"), lines[0]);
      assert(seconds < 30, `failed after ${seconds.toFixed(1)} s`);
      assertEquals([...Deno.readDirSync(out)].length, 0, "nothing written");
    } finally {
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "build usage errors: armv7 has no Deno build; unknown targets and runtimes are named",
  ...opts,
  async fn() {
    const cases = [
      { args: ["--target", "armv7", "--runtime", "deno"], includes: "Deno has no 32-bit ARM build" },
      { args: ["--target", "sparc"], includes: `unknown target "sparc"` },
      { args: ["--runtime", "bun"], includes: `unknown runtime "bun"` },
      { args: ["--frobnicate"], includes: "--frobnicate" },
    ];
    for (const c of cases) {
      const r = await run(Deno.execPath(), ["task", "build", ...c.args], { cwd: ROOT, env: { NO_COLOR: "1" } });
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
      assertEquals(r.code, 2, `${c.args.join(" ")}: ${r.stderr}`);
      assertEquals(lines.length, 1, r.stderr);
      assert(lines[0].startsWith("build: ") && lines[0].includes(c.includes), lines[0]);
    }
  },
});
