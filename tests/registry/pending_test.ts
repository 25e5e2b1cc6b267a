/**
 * Rollback after the restart (`src/registry/pending.ts`,
 * `src/cli/pending-start.ts`) on real files and real shell-script
 * "binaries": the first start of a new version counts an attempt, the second
 * (it crashed before it was ready) restores `.prev`; a ready node removes
 * the marker; a node that is not ready within the bound rolls back and
 * exits 75; the old version clears a stale marker; bad markers are typed
 * errors (and a 10,000-case fuzz loop).
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import type { Platform } from "../../src/platform/types.ts";
import {
  checkPending,
  parsePending,
  pendingPath,
  PendingUpdateError,
  rollBack,
  writePending,
} from "../../src/registry/pending.ts";
import { guardPendingUpdate } from "../../src/cli/pending-start.ts";
import { Logger } from "../../src/log/logger.ts";
import { EXIT_RESTART } from "../../src/registry/self-update.ts";

const platform = currentPlatform();
const fs = platform.fs;
const says = (version: string) =>
  new TextEncoder().encode(`#!/bin/sh\necho "macula ${version} (linux-x86_64, test)"\n`);

async function versionOf(path: string): Promise<string> {
  const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split(" ")[1] ?? `exit ${out.code}`;
}

async function installed(dir: string): Promise<string> {
  const exec = `${dir}/macula`;
  await Deno.writeFile(exec, says("0.2.0"), { mode: 0o755 });
  await Deno.writeFile(`${exec}.prev`, says("0.1.0"), { mode: 0o755 });
  await writePending(fs, exec, { version: "0.2.0", previous: `${exec}.prev`, time: 1, attempts: 0 });
  return exec;
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("pending: a crash before ready rolls back on the next start; ready keeps the update", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-pending-" });
  try {
    const exec = await installed(dir);
    assertEquals(await checkPending(fs, `${dir}/other`, "0.2.0"), { action: "none" });
    // first start of 0.2.0: an attempt is counted, the marker stays
    const first = await checkPending(fs, exec, "0.2.0");
    assertEquals(first.action, "confirm");
    assertEquals(JSON.parse(await Deno.readTextFile(pendingPath(exec))).attempts, 1);
    // it crashed; systemd starts it again: rolled back
    const second = await checkPending(fs, exec, "0.2.0");
    assertEquals(second.action, "rolled-back");
    assertEquals(await versionOf(exec), "0.1.0");
    assert(!(await exists(pendingPath(exec))) && !(await exists(`${exec}.prev`)));

    // the old binary finding a marker for another version clears it
    const again = await installed(dir);
    assertEquals((await checkPending(fs, again, "0.1.0")).action, "cleared");
    assert(!(await exists(pendingPath(again))));
    assertEquals(await versionOf(again), "0.2.0");

    // an unreadable marker is removed and ignored
    await Deno.writeTextFile(pendingPath(again), "{not json");
    assertEquals(await checkPending(fs, again, "0.2.0"), { action: "none" });
    assert(!(await exists(pendingPath(again))));

    // no previous binary: a typed error, the marker removed
    await Deno.remove(`${again}.prev`);
    const e = await assertRejects(
      () => rollBack(fs, again, { version: "0.2.0", previous: `${again}.prev`, time: 1, attempts: 1 }),
      PendingUpdateError,
    );
    assertEquals((e as PendingUpdateError).code, "E_SELF_UPDATE_ROLLBACK");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The current platform posing as the single binary at `exec`; `exit` records its code. */
function asBinary(exec: string, exited: number[]): Platform {
  const process = Object.create(platform.process);
  process.execPath = () => exec;
  process.exit = (code: number) => exited.push(code);
  return { ...platform, runtime: "node", process };
}

Deno.test("pending at start: ready in time removes the marker; not ready in time rolls back and exits 75", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macula-pending-start-" });
  const lines: string[] = [];
  const log = new Logger({ format: "text", level: "info", sink: (l) => lines.push(l) });
  try {
    const exec = await installed(dir);
    const exited: number[] = [];
    const ok = await guardPendingUpdate(asBinary(exec, exited), log, "0.2.0", 5_000);
    assert(!ok.rolledBack);
    await ok.ready();
    assert(!(await exists(pendingPath(exec))));
    assertEquals(await versionOf(exec), "0.2.0");

    await installed(dir);
    const slow = await guardPendingUpdate(asBinary(exec, exited), log, "0.2.0", 200);
    assert(!slow.rolledBack);
    for (let i = 0; i < 100 && exited.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assertEquals(exited, [EXIT_RESTART]);
    assertEquals(await versionOf(exec), "0.1.0");
    assert(!(await exists(pendingPath(exec))));

    // second start after a crash: rolled back before starting
    await installed(dir);
    await checkPending(fs, exec, "0.2.0");
    const crashed = await guardPendingUpdate(asBinary(exec, exited), log, "0.2.0", 5_000);
    assert(crashed.rolledBack);
    assertEquals(await versionOf(exec), "0.1.0");
    assert(lines.some((l) => l.includes("previous binary restored")));
    // the Deno build never looks
    assertEquals((await guardPendingUpdate(platform, log, "0.2.0")).rolledBack, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pending: bad markers are E_SELF_UPDATE_PENDING; fuzz 10,000 cases", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  for (
    const bad of [
      "",
      "null",
      "[]",
      "{}",
      '{"version":"","previous":"/p","time":1,"attempts":0}',
      '{"version":"1","previous":"","time":1,"attempts":0}',
      '{"version":"1","previous":"/p","time":"1","attempts":0}',
      '{"version":"1","previous":"/p","time":1,"attempts":-1}',
      '{"version":"1","previous":"/p","time":1,"attempts":0.5}',
    ]
  ) {
    const e = assertThrows(() => parsePending(enc(bad)), PendingUpdateError);
    assertEquals((e as PendingUpdateError).code, "E_SELF_UPDATE_PENDING");
  }
  assertThrows(() => parsePending(new Uint8Array([0xff, 0xfe])), PendingUpdateError);
  const good = enc('{"version":"0.2.0","previous":"/b/macula.prev","time":5,"attempts":1}');
  assertEquals(parsePending(good), { version: "0.2.0", previous: "/b/macula.prev", time: 5, attempts: 1 });
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 10_000; i++) {
    const bytes = good.slice();
    for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) bytes[Math.floor(rand() * bytes.length)] = rand() * 256;
    const cut = rand() < 0.2 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
    try {
      const m = parsePending(cut);
      assert(typeof m.version === "string" && Number.isInteger(m.attempts) && m.attempts >= 0);
    } catch (error) {
      assert(error instanceof PendingUpdateError, String(error));
    }
  }
});
