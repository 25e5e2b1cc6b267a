/**
 * The SHA-256 sums file next to the binaries, in `sha256sum` format (so a
 * board can check a download with `sha256sum -c`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { sumsName } from "./targets.ts";

/**
 * SHA-256 of a file, hex.
 *
 * @example
 * ```ts
 * import { sha256File } from "./sums.ts";
 * console.log(await sha256File("deno.json"));
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Write `<outDir>/macula-<version>-SHA256SUMS` covering every
 * `macula-<version>-linux-*` binary in `outDir`. Returns name → digest.
 *
 * @example
 * ```ts
 * import { writeSums } from "./sums.ts";
 * const sums = await writeSums("dist", "0.1.0");
 * ```
 */
export async function writeSums(outDir: string, version: string): Promise<Map<string, string>> {
  const prefix = `macula-${version}-linux-`;
  const names: string[] = [];
  for await (const entry of Deno.readDir(outDir)) {
    if (entry.isFile && entry.name.startsWith(prefix) && !entry.name.endsWith(".tmp")) names.push(entry.name);
  }
  names.sort();
  const sums = new Map<string, string>();
  for (const name of names) sums.set(name, await sha256File(`${outDir}/${name}`));
  const text = [...sums].map(([name, digest]) => `${digest}  ${name}\n`).join("");
  const path = `${outDir}/${sumsName(version)}`;
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
  return sums;
}
