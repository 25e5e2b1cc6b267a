import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { IdentityError, KEY_FILE, loadOrCreateIdentity } from "../../src/identity/key-store.ts";
import { currentPlatform } from "../../src/platform/current.ts";

const fs = currentPlatform().fs;

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "macula-key-" });
}

Deno.test("creates the identity once (0700 dir, 0600 file) and reloads the same key", async () => {
  const root = await tempDir();
  const dir = `${root}/data/nested`;
  try {
    const first = await loadOrCreateIdentity(fs, dir);
    assert(first.created);
    assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assertEquals((await Deno.stat(`${dir}/${KEY_FILE}`)).mode! & 0o777, 0o600);
    const second = await loadOrCreateIdentity(fs, dir);
    assert(!second.created);
    assertEquals(second.keyPair.publicKey, first.keyPair.publicKey);
    assertEquals(second.warning, undefined);
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name);
    assertEquals(leftovers, [KEY_FILE], "no temp files left behind");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a corrupt key file is a clear error and is never replaced", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/${KEY_FILE}`;
    const corruptions = [
      "not json",
      "{}",
      JSON.stringify({ version: 1, type: "ed25519", seed: "!!!" }),
      JSON.stringify({ version: 1, type: "ed25519", seed: btoa("short") }),
      JSON.stringify({ version: 2, type: "ed25519", seed: btoa("x".repeat(32)) }),
      JSON.stringify({
        version: 1,
        type: "ed25519",
        seed: btoa("x".repeat(32)),
        did: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
      }),
      "",
    ];
    for (const content of corruptions) {
      await Deno.writeTextFile(path, content, { mode: 0o600 });
      await assertRejects(() => loadOrCreateIdentity(fs, dir), IdentityError, path);
      assertEquals(await Deno.readTextFile(path), content, "file must not be replaced");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unreadable key file is an IdentityError, not a new identity", async () => {
  if (Deno.uid() === 0) {
    // root reads mode-000 files anyway; use a directory in place of the file instead.
    const dir = await tempDir();
    try {
      await Deno.mkdir(`${dir}/${KEY_FILE}`);
      await assertRejects(() => loadOrCreateIdentity(fs, dir), IdentityError, "cannot read");
      assert((await Deno.stat(`${dir}/${KEY_FILE}`)).isDirectory);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    return;
  }
  const dir = await tempDir();
  try {
    await loadOrCreateIdentity(fs, dir);
    await Deno.chmod(`${dir}/${KEY_FILE}`, 0o000);
    await assertRejects(() => loadOrCreateIdentity(fs, dir), IdentityError, "cannot read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a group/world-readable key file loads with a warning", async () => {
  const dir = await tempDir();
  try {
    const { keyPair } = await loadOrCreateIdentity(fs, dir);
    await Deno.chmod(`${dir}/${KEY_FILE}`, 0o644);
    const again = await loadOrCreateIdentity(fs, dir);
    assertEquals(again.keyPair.publicKey, keyPair.publicKey);
    assert(again.warning?.includes("chmod 600"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
