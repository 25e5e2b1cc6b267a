import { assert, assertEquals } from "../helpers/assert.ts";
import { type LogFormat, Logger, type LogLevel } from "../../src/log/logger.ts";

function capture(options: { format?: LogFormat; level?: LogLevel; context?: Record<string, unknown> } = {}) {
  const lines: string[] = [];
  const log = new Logger({ ...options, sink: (line) => lines.push(line) });
  return { log, lines };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

Deno.test("logger: defaults are text format at info level", () => {
  const log = new Logger({ sink: () => {} });
  assertEquals(log.format, "text");
  assertEquals(log.level, "info");
});

Deno.test("logger: text lines are `time LEVEL message key=value`", () => {
  const { log, lines } = capture();
  const before = Date.now();
  log.info("node started", { port: 9443, id: "abc", ok: true });
  const after = Date.now();
  assertEquals(lines.length, 1);
  const m = /^(\S+) (INFO ) node started port=9443 id=abc ok=true$/.exec(lines[0]);
  assert(m, lines[0]);
  assert(ISO.test(m[1]), m[1]);
  const t = Date.parse(m[1]);
  assert(t >= before - 1 && t <= after + 1, "timestamp is the current time");
});

Deno.test("logger: text level tags are padded to five characters", () => {
  const { log, lines } = capture({ level: "debug" });
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assertEquals(lines.map((l) => l.slice(l.indexOf(" ") + 1)), ["DEBUG d", "INFO  i", "WARN  w", "ERROR e"]);
});

Deno.test("logger: text values with whitespace or non-strings are JSON-encoded", () => {
  const { log, lines } = capture();
  log.warn("m", { reason: "closed by peer", n: 1.5, list: [1, "a"], obj: { a: 1 }, nil: null, plain: "x=y" });
  const rest = lines[0].slice(lines[0].indexOf("WARN  m ") + "WARN  m ".length);
  assertEquals(rest, 'reason="closed by peer" n=1.5 list=[1,"a"] obj={"a":1} nil=null plain=x=y');
});

Deno.test("logger: a message without fields has no trailing space", () => {
  const { log, lines } = capture();
  log.info("just this");
  assert(lines[0].endsWith(" INFO  just this"), JSON.stringify(lines[0]));
});

Deno.test("logger: json lines carry time, level, msg and the fields", () => {
  const { log, lines } = capture({ format: "json" });
  log.error("dial failed", { peer: "z6Mk", attempts: 3 });
  const obj = JSON.parse(lines[0]);
  assert(ISO.test(obj.time), obj.time);
  assertEquals({ ...obj, time: "T" }, { time: "T", level: "error", msg: "dial failed", peer: "z6Mk", attempts: 3 });
  assertEquals(Object.keys(obj).slice(0, 3), ["time", "level", "msg"]);
  assertEquals(lines[0].includes("\n"), false, "one line per entry");
});

Deno.test("logger: the level filters lower-severity lines", () => {
  const order: LogLevel[] = ["debug", "info", "warn", "error"];
  for (const level of order) {
    const { log, lines } = capture({ level, format: "json" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    const expected = order.slice(order.indexOf(level));
    assertEquals(lines.map((l) => JSON.parse(l).level), expected, level);
  }
});

Deno.test("logger: child loggers add context; fields override context; parent unchanged", () => {
  const { log, lines } = capture({ format: "json", context: { node: "n1" } });
  const child = log.child({ component: "dial", peer: "p1" });
  const grandchild = child.child({ peer: "p2" });
  assertEquals(child.format, "json");
  assertEquals(child.level, "info");
  child.info("a");
  grandchild.info("b", { extra: 1 });
  grandchild.info("c", { node: "override" });
  log.info("d");
  const objs = lines.map((l) => {
    const { time: _t, ...rest } = JSON.parse(l);
    return rest;
  });
  assertEquals(objs, [
    { level: "info", msg: "a", node: "n1", component: "dial", peer: "p1" },
    { level: "info", msg: "b", node: "n1", component: "dial", peer: "p2", extra: 1 },
    { level: "info", msg: "c", node: "override", component: "dial", peer: "p2" },
    { level: "info", msg: "d", node: "n1" },
  ]);
});

Deno.test("logger: a child inherits the level filter and sink", () => {
  const { log, lines } = capture({ level: "warn" });
  const child = log.child({ c: 1 });
  child.info("dropped");
  child.warn("kept");
  assertEquals(lines.length, 1);
  assert(lines[0].endsWith("WARN  kept c=1"), lines[0]);
});

Deno.test("logger: Error and bigint fields are normalised, undefined dropped", () => {
  const json = capture({ format: "json" });
  json.log.info("x", { error: new TypeError("bad thing"), big: 2n ** 70n, gone: undefined, zero: 0 });
  const obj = JSON.parse(json.lines[0]);
  assertEquals(obj.error, "bad thing");
  assertEquals(obj.big, "1180591620717411303424");
  assertEquals("gone" in obj, false);
  assertEquals(obj.zero, 0);

  const text = capture();
  text.log.info("x", { error: new Error("no route to host"), big: 5n, gone: undefined });
  assert(text.lines[0].endsWith(' x error="no route to host" big=5'), text.lines[0]);
});

Deno.test("logger: context values are normalised too", () => {
  const { log, lines } = capture({ format: "json", context: { cause: new Error("ctx err"), n: 7n } });
  log.info("m");
  const obj = JSON.parse(lines[0]);
  assertEquals(obj.cause, "ctx err");
  assertEquals(obj.n, "7");
});

/** Run `fn` with console.error captured. */
function withConsoleError(fn: () => void): string[] {
  const got: string[] = [];
  const real = console.error;
  console.error = (...args: unknown[]) => got.push(args.map(String).join(" "));
  try {
    fn();
  } finally {
    console.error = real;
  }
  return got;
}

Deno.test("logger: the default sink is console.error (stderr)", () => {
  const got = withConsoleError(() => new Logger().warn("to stderr", { k: "v" }));
  assertEquals(got.length, 1);
  assert(got[0].endsWith(" WARN  to stderr k=v"), got[0]);
});

Deno.test("logger: silent() drops everything, including from children", () => {
  const log = Logger.silent();
  const got = withConsoleError(() => {
    log.error("nothing");
    log.child({ a: 1 }).error("nothing");
  });
  assertEquals(got, []);
  assertEquals(log.level, "error");
});
