/**
 * The content parts of the CLI that need no mesh: `--content-*` flags and
 * `MACULA_CONTENT_*` variables, size and rate parsing, the progress
 * display, and one-shot `macula content` runs: help, usage errors (exit 2),
 * no node (exit 1), and the one-line errors naming the fix for paths
 * outside the declared read/write permissions.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { ConfigError, parseByteSize, resolveStartConfig } from "../../src/cli/config.ts";
import { formatBytes, formatDuration, progressBar, progressLine } from "../../src/cli/commands/content-progress.ts";
import { runCli } from "../helpers/cli.ts";
import { hashBytes } from "../../src/content/tree.ts";

Deno.test("content config: defaults, environment, flags over environment, bad values named", () => {
  assertEquals(resolveStartConfig({}, {}).content, { provide: true });
  const env = {
    MACULA_CONTENT_QUOTA: "512M",
    MACULA_CONTENT_UPLOAD_RATE: "2M/s",
    MACULA_CONTENT_UPLOADS: "3",
    MACULA_CONTENT_PROVIDE: "0",
  };
  assertEquals(resolveStartConfig(env, {}).content, {
    quota: 512 * 1024 ** 2,
    uploadRate: 2 * 1024 ** 2,
    maxUploads: 3,
    provide: false,
  });
  assertEquals(
    resolveStartConfig({ MACULA_CONTENT_QUOTA: "1G" }, {
      "content-quota": "4G",
      "content-upload-rate": "512K",
      "content-uploads": "16",
      "no-content-provide": true,
    }).content,
    { quota: 4 * 1024 ** 3, uploadRate: 512 * 1024, maxUploads: 16, provide: false },
  );
  assertThrows(() => resolveStartConfig({}, { "content-quota": "lots" }), ConfigError, "--content-quota");
  assertThrows(() => resolveStartConfig({}, { "content-quota": "0" }), ConfigError, "above 0");
  assertThrows(
    () => resolveStartConfig({ MACULA_CONTENT_UPLOAD_RATE: "-1" }, {}),
    ConfigError,
    "MACULA_CONTENT_UPLOAD_RATE",
  );
  assertThrows(() => resolveStartConfig({}, { "content-uploads": "0" }), ConfigError, "--content-uploads");
  assertThrows(
    () => resolveStartConfig({ MACULA_CONTENT_PROVIDE: "maybe" }, {}),
    ConfigError,
    "MACULA_CONTENT_PROVIDE",
  );
});

Deno.test("parseByteSize: suffixes, spellings, rates; bad inputs refused", () => {
  const cases: Array<[string, number]> = [
    ["0", 0],
    ["1", 1],
    ["512K", 512 * 1024],
    ["512k", 512 * 1024],
    ["1.5G", 1.5 * 1024 ** 3],
    ["4GiB", 4 * 1024 ** 3],
    ["64MB", 64 * 1024 ** 2],
    [" 2T ", 2 * 1024 ** 4],
  ];
  for (const [text, n] of cases) assertEquals(parseByteSize(text, "--x"), n, text);
  assertEquals(parseByteSize("2M/s", "--x", true), 2 * 1024 ** 2);
  for (const bad of ["", "M", "-1", "1X", "1.2.3", "1e9", "2M/s", "9".repeat(20), "1 M B"]) {
    assertThrows(() => parseByteSize(bad, "--x"), ConfigError, "--x", JSON.stringify(bad));
  }
  for (let i = 0; i < 10_000; i++) {
    const text = Array.from(
      { length: Math.floor(Math.random() * 8) },
      () => "0123456789.kKmMgGtTiIbB/s -x"[Math.floor(Math.random() * 28)],
    ).join("");
    try {
      const n = parseByteSize(text, "--x", Math.random() < 0.5);
      assert(Number.isSafeInteger(n) && n >= 0, `${JSON.stringify(text)} → ${n}`);
    } catch (error) {
      assert(error instanceof ConfigError, `${JSON.stringify(text)}: ${error}`);
    }
  }
});

Deno.test("progress display: bytes, durations, the bar and the plain line", () => {
  assertEquals(formatBytes(0), "0 B");
  assertEquals(formatBytes(1536), "1.50 KiB");
  assertEquals(formatBytes(64 * 1024 ** 2), "64.0 MiB");
  assertEquals(formatDuration(42), "42s");
  assertEquals(formatDuration(185), "3m05s");
  assertEquals(formatDuration(3720), "1h02m");
  assertEquals(formatDuration(Infinity), "?");
  const p = { bytes: 16 * 1024 ** 2, size: 64 * 1024 ** 2, rate: 8 * 1024 ** 2, providers: 3 };
  assertEquals(progressBar(p, 8), "[##......]  25%  16.0 MiB / 64.0 MiB  8.00 MiB/s  ETA 6s, 3 providers");
  assertEquals(progressLine(p), "fetching: 16.0 MiB of 64.0 MiB (25%), 8.00 MiB/s, ETA 6s, 3 providers");
  assertEquals(progressLine({ bytes: 0, size: 0, rate: 0 }), "fetching: 0 B of 0 B (100%), 0 B/s, ETA ?");
  assert(progressBar({ bytes: 1, size: 1, rate: 1, providers: 1 }).includes("1 provider"));
});

Deno.test({
  name: "macula content: help, usage errors exit 2, no node exits 1, denied paths name the fix",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const help = await runCli(["content", "--help"]);
    assertEquals(help.code, 0);
    assert(help.stdout.includes("macula content publish FILE|-"), help.stdout);
    const fetchHelp = await runCli(["content", "fetch", "--help"]);
    assert(fetchHelp.stdout.includes("-o, --output FILE"), fetchHelp.stdout);
    assert((await runCli(["help", "publish"])).stdout.includes("Usage: macula content publish"));
    assert((await runCli(["--help"])).stdout.includes("macula content"));
    const startHelp = (await runCli(["start", "--help"])).stdout;
    for (const flag of ["--content-quota", "--content-upload-rate", "--content-uploads", "--no-content-provide"]) {
      assert(startHelp.includes(flag), flag);
    }
    const badQuota = await runCli(["start", "--content-quota", "lots", "--data-dir", ".macula/never"]);
    assertEquals(badQuota.code, 2, badQuota.stderr);
    assert(badQuota.stderr.includes("invalid --content-quota"), badQuota.stderr);

    for (
      const [args, text] of [
        [["content", "frob"], "unknown content command"],
        [["content", "fetch"], "needs a content id"],
        [["content", "fetch", "nope"], "invalid content id"],
        [["content", "pin", "b"], "invalid content id"],
        [["content", "publish"], "needs a FILE"],
        [["content", "ls", "extra"], "xtra"],
        [["content", "ls", "--bogus"], "bogus"],
      ] as const
    ) {
      const r = await runCli([...args, "--health-port", "1"]);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert(r.stderr.startsWith("macula: ") && r.stderr.includes(text), `${args.join(" ")}: ${r.stderr}`);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    }

    const { mcid } = await hashBytes(new Uint8Array([1]));
    const noNode = await runCli(["content", "ls", "--health-port", "1"]);
    assertEquals(noNode.code, 1);
    assert(noNode.stderr.includes("no node answered at http://127.0.0.1:1"), noNode.stderr);

    const denied = await runCli(["content", "publish", "/etc/hostname", "--health-port", "1"]);
    assertEquals(denied.code, 1);
    assert(denied.stderr.includes("macula content publish - < /etc/hostname"), denied.stderr);
    assertEquals(denied.stderr.trim().split("\n").length, 1, denied.stderr);

    const cannotWrite = await runCli(["content", "fetch", String(mcid), "-o", "/tmp/out.bin", "--health-port", "1"]);
    assertEquals(cannotWrite.code, 1);
    assert(cannotWrite.stderr.includes(`macula content fetch MCID > /tmp/out.bin`), cannotWrite.stderr);
  },
});
