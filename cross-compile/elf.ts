/**
 * Reads the architecture of an ELF executable (to check that a supplied
 * runtime or a built binary is for the expected target).
 *
 * @module
 */
import { type Arch, ARCHES, TARGETS } from "./targets.ts";

/** Word size and machine of an ELF file. */
export interface ElfInfo {
  bits: 32 | 64;
  machine: number;
  /** Our name for the machine, if it is one of our targets. */
  arch: Arch | null;
}

/**
 * The ELF header of `path`, or `null` if the file is not an ELF executable.
 *
 * @example
 * ```ts
 * import { readElf } from "./elf.ts";
 * console.log((await readElf(Deno.execPath()))?.arch); // "x86_64"
 * ```
 */
export async function readElf(path: string): Promise<ElfInfo | null> {
  const file = await Deno.open(path, { read: true });
  try {
    const header = new Uint8Array(20);
    let n = 0;
    while (n < header.length) {
      const got = await file.read(header.subarray(n));
      if (got === null) return null;
      n += got;
    }
    if (header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) return null;
    const bits = header[4] === 2 ? 64 : 32;
    const machine = header[5] === 1 ? header[18] | (header[19] << 8) : (header[18] << 8) | header[19];
    const arch = ARCHES.find((a) => TARGETS[a].elf.machine === machine && TARGETS[a].elf.bits === bits) ?? null;
    return { bits, machine, arch };
  } finally {
    file.close();
  }
}
