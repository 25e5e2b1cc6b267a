/**
 * Running a binary of any target on this machine: natively when the
 * architectures match, else under qemu user-mode emulation with the
 * target's C library from a sysroot (`QEMU_LD_PREFIX`).
 *
 * Sysroots live in `$MACULA_SYSROOTS/<debian-arch>` (default
 * `/opt/macula-sysroots`), e.g. `/opt/macula-sysroots/armhf`, made by
 * `cross-compile/setup-emulation.sh` from Debian packages.
 *
 * @module
 */
import { which } from "./run.ts";
import { type Arch, hostArch, TARGETS } from "./targets.ts";

/** Default parent folder of the sysroots. */
export const DEFAULT_SYSROOTS = "/opt/macula-sysroots";

/** How to start a program of some architecture here. */
export interface Runner {
  arch: Arch;
  /** True under qemu. */
  emulated: boolean;
  /** The command line running `program args…`. */
  argv(program: string, args: string[]): string[];
  /** Environment the command needs (`QEMU_LD_PREFIX`). */
  env: Record<string, string>;
}

/** The folder holding the sysroots. */
export function sysrootsDir(): string {
  return Deno.env.get("MACULA_SYSROOTS") || DEFAULT_SYSROOTS;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * A runner for `arch`, or the reason there is none (qemu or the sysroot
 * missing).
 *
 * @example
 * ```ts
 * import { runnerFor } from "./emulation.ts";
 * const r = runnerFor("armv7");
 * if ("reason" in r) console.log(`cannot run armv7 here: ${r.reason}`);
 * else console.log(r.argv("./macula", ["--version"]).join(" "));
 * ```
 */
export function runnerFor(arch: Arch): Runner | { reason: string } {
  if (hostArch() === arch) {
    return { arch, emulated: false, argv: (program, args) => [program, ...args], env: {} };
  }
  const target = TARGETS[arch];
  const qemu = which(`${target.qemu}-static`) ?? which(target.qemu);
  if (!qemu) return { reason: `${target.qemu}-static is not installed (Debian: apt-get install qemu-user-static)` };
  const sysroot = `${sysrootsDir()}/${target.debianArch}`;
  if (!isFile(`${sysroot}/${target.loader}`)) {
    return {
      reason:
        `no ${target.debianArch} sysroot at ${sysroot} (run cross-compile/setup-emulation.sh or set MACULA_SYSROOTS)`,
    };
  }
  return {
    arch,
    emulated: true,
    argv: (program, args) => [qemu, program, ...args],
    env: { QEMU_LD_PREFIX: sysroot },
  };
}
