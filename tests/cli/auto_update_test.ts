/** `--auto-update CHANNEL [--auto-update-interval S]`: parsing and the typed config errors; `macula start` refuses bad values. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { autoUpdateConfig } from "../../src/cli/auto-update.ts";
import { ConfigError } from "../../src/cli/config-error.ts";
import { runCli } from "../helpers/cli.ts";

Deno.test("auto-update flags: channel and interval, bad values are ConfigErrors", () => {
  assertEquals(autoUpdateConfig({}), undefined);
  assertEquals(autoUpdateConfig({ "auto-update": "stable" }), { channel: "stable", intervalMs: 3_600_000 });
  assertEquals(autoUpdateConfig({ "auto-update": "beta", "auto-update-interval": "30" }), {
    channel: "beta",
    intervalMs: 30_000,
  });
  assertThrows(() => autoUpdateConfig({ "auto-update": "Bad Channel" }), ConfigError, "invalid channel");
  for (const bad of ["0", "-5", "1.5", "x", "9999999"]) {
    assertThrows(
      () => autoUpdateConfig({ "auto-update": "stable", "auto-update-interval": bad }),
      ConfigError,
      "whole seconds",
    );
  }
  assertThrows(() => autoUpdateConfig({ "auto-update-interval": "10" }), ConfigError, "needs --auto-update");
});

Deno.test({
  name: "auto-update flags: macula start exits 2 on a bad channel before starting",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await runCli(["start", "--port", "0", "--health-port", "0", "--auto-update", "NOPE!"]);
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes("--auto-update"), r.stderr);
  },
});
