/**
 * Atomic install: bytes that do not hash to the release's content id never
 * reach the target (the old file stays whole, no temp file is left), and a
 * good install replaces the target in one rename.
 */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { hashBytes } from "../../src/content/tree.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { ArtifactMismatchError, InstallError } from "../../src/registry/errors.ts";
import { installAtomically } from "../../src/registry/install.ts";

const fs = currentPlatform().fs;
const text = (s: string) => new TextEncoder().encode(s);
async function* chunks(...parts: string[]) {
  for (const p of parts) yield text(p);
}

Deno.test("install: a good artifact replaces the target; a mismatching one is refused and leaves it whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-install-" });
  try {
    const target = `${dir}/sub/agent`;
    const v1 = (await hashBytes(text("version one\n"))).mcid.toString();
    await installAtomically(fs, target, chunks("version ", "one\n"), v1);
    assertEquals(await Deno.readTextFile(target), "version one\n");
    assertEquals((await Deno.stat(target)).mode! & 0o777, 0o755);
    const v2 = (await hashBytes(text("version two\n"))).mcid.toString();
    // same length, other bytes
    await assertRejects(() => installAtomically(fs, target, chunks("version six\n"), v2), ArtifactMismatchError);
    // longer than the release says
    await assertRejects(
      () => installAtomically(fs, target, chunks("version two\n", "extra"), v2),
      ArtifactMismatchError,
    );
    // shorter (a truncated transfer)
    await assertRejects(() => installAtomically(fs, target, chunks("version"), v2), ArtifactMismatchError);
    assertEquals(await Deno.readTextFile(target), "version one\n");
    assertEquals((await Array.fromAsync(Deno.readDir(`${dir}/sub`))).map((e) => e.name), ["agent"]);
    await installAtomically(fs, target, chunks("version two\n"), v2);
    assertEquals(await Deno.readTextFile(target), "version two\n");
    assertEquals((await Array.fromAsync(Deno.readDir(`${dir}/sub`))).map((e) => e.name), ["agent"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install: an unwritable directory is an InstallError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-install-" });
  try {
    await Deno.writeTextFile(`${dir}/file`, "x");
    const id = (await hashBytes(text("a"))).mcid.toString();
    await assertRejects(() => installAtomically(fs, `${dir}/file/agent`, chunks("a"), id), InstallError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
