/** `--exp` / `--nbf` values and the words that describe token times. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { UsageError } from "../../src/cli/args.ts";
import {
  describeExpiry,
  describeNotBefore,
  formatSpan,
  parseDuration,
  parseTimeFlag,
} from "../../src/cli/time-flags.ts";

const NOW = 1_800_000_000;

Deno.test("time flags: durations with units, never, ISO dates", () => {
  assertEquals(parseDuration("90s", "--exp"), 90);
  assertEquals(parseDuration("30m", "--exp"), 1800);
  assertEquals(parseDuration("1h", "--exp"), 3600);
  assertEquals(parseDuration("7d", "--exp"), 7 * 86_400);
  assertEquals(parseDuration("2W", "--exp"), 14 * 86_400);
  assertEquals(parseTimeFlag("1h", "--exp", NOW), NOW + 3600);
  assertEquals(parseTimeFlag(" 10m ", "--nbf", NOW), NOW + 600);
  assertEquals(parseTimeFlag("never", "--exp", NOW), null);
  assertEquals(parseTimeFlag("2030-01-01T00:00:00Z", "--exp", NOW), 1_893_456_000);
  assertEquals(parseTimeFlag("2030-01-01", "--nbf", NOW), 1_893_456_000);
});

Deno.test("time flags: a bad duration is a UsageError naming the flag", () => {
  for (const bad of ["", "1", "h", "-1h", "1.5h", "1y", "0s", "1h30m", "soon", "99999999999d", "2030-13-45"]) {
    const e = assertThrows(() => parseTimeFlag(bad, "--exp", NOW), UsageError);
    assert(e.message.includes("--exp"), e.message);
  }
  assertThrows(() => parseTimeFlag("never", "--nbf", NOW), UsageError, "--nbf");
});

Deno.test("time flags: spans and expiry in words", () => {
  assertEquals(formatSpan(0), "0 s");
  assertEquals(formatSpan(59), "59 s");
  assertEquals(formatSpan(60), "1 min");
  assertEquals(formatSpan(3725), "1 h 2 min");
  assertEquals(formatSpan(7200), "2 h");
  assertEquals(formatSpan(3 * 86_400 + 4 * 3600 + 5), "3 d 4 h");
  assertEquals(describeExpiry(null, NOW), "never expires");
  assert(describeExpiry(NOW + 3600, NOW).startsWith("expires in 1 h ("), describeExpiry(NOW + 3600, NOW));
  assert(describeExpiry(NOW - 120, NOW).startsWith("expired 2 min ago ("));
  assert(describeNotBefore(NOW + 60, NOW).startsWith("not valid before "));
  assert(describeNotBefore(NOW + 60, NOW).endsWith("(in 1 min)"));
  assert(describeNotBefore(NOW - 60, NOW).startsWith("valid since "));
});
