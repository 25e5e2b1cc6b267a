/**
 * Revocation stores (`src/auth/revocation-store.ts`): the memory store, and
 * the append-only file that survives a reopen, skips (and counts) corrupt
 * lines, and recovers from a torn last line.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { FileRevocationStore, MemoryRevocationStore } from "../../src/auth/revocation-store.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { Logger } from "../../src/log/logger.ts";
import { toBase64 } from "../../src/util/bytes.ts";

const fs = currentPlatform().fs;
const bytesOf = (n: number) => Uint8Array.from({ length: 90 }, (_, i) => (i + n) & 0xff);

Deno.test("memory revocation store: add is idempotent, has and all", async () => {
  const store = new MemoryRevocationStore();
  await store.open();
  assertEquals(await store.add("bafyone", bytesOf(1)), true);
  assertEquals(await store.add("bafyone", bytesOf(9)), false);
  assertEquals(await store.add("bafytwo", bytesOf(2)), true);
  assert(store.has("bafyone") && store.has("bafytwo") && !store.has("bafythree"));
  assertEquals(store.all(), [bytesOf(1), bytesOf(2)]);
  assertEquals(store.size, 2);
  await assertRejects(async () => await store.add("no spaces allowed", bytesOf(1)), TypeError);
  await assertRejects(async () => await store.add("bafyempty", new Uint8Array()), RangeError);
});

Deno.test("file revocation store: survives a reopen, in order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new FileRevocationStore(fs, fs.join(dir, "auth"));
    await store.open();
    assertEquals(store.size, 0);
    await Promise.all([store.add("bafyone", bytesOf(1)), store.add("bafytwo", bytesOf(2))]);
    assertEquals(await store.add("bafyone", bytesOf(1)), false);
    await store.close();
    const again = new FileRevocationStore(fs, fs.join(dir, "auth"));
    await again.open();
    assertEquals(again.size, 2);
    assertEquals(again.all(), [bytesOf(1), bytesOf(2)]);
    assert(again.has("bafytwo"));
    assertEquals(again.corrupt, 0);
    assertEquals((await fs.fileMode(again.path))! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file revocation store: corrupt lines are skipped, counted and warned about; a torn tail is healed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = fs.join(dir, "revocations");
    const good = (id: string, n: number) => `${id} ${toBase64(bytesOf(n))}\n`;
    const text = good("bafyone", 1) +
      "garbage without a space\n" +
      "bafybad !!!notbase64!!!\n" +
      "BAD-ID " + toBase64(bytesOf(3)) + "\n" +
      "\n" +
      good("bafytwo", 2) +
      "bafytorn"; // a write cut short: no bytes, no newline
    await Deno.writeTextFile(path, text);
    const warnings: string[] = [];
    const log = new Logger({ level: "warn", sink: (line) => warnings.push(line) });
    const store = new FileRevocationStore(fs, dir, { log });
    await store.open();
    assertEquals(store.size, 2);
    assertEquals(store.corrupt, 4);
    assertEquals(warnings.length, 4);
    assert(warnings.every((w) => w.includes("unreadable line")));
    assertEquals(await store.add("bafythree", bytesOf(5)), true);
    await store.close();
    const lines = (await Deno.readTextFile(path)).split("\n");
    assertEquals(lines.at(-2), good("bafythree", 5).trimEnd(), "the new line starts after the torn one");
    const again = new FileRevocationStore(fs, dir);
    await again.open();
    assert(again.has("bafythree") && again.has("bafyone") && again.has("bafytwo"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
