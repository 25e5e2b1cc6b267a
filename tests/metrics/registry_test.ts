import { assert, assertEquals } from "../helpers/assert.ts";
import { Counter, Gauge, MetricsRegistry } from "../../src/metrics/registry.ts";

Deno.test("metrics: an empty registry renders a lone newline", () => {
  assertEquals(new MetricsRegistry().render(), "\n");
});

Deno.test("metrics: a counter renders HELP, TYPE and 0 before any increment", () => {
  const m = new MetricsRegistry();
  m.counter("macula_dials_total", "Dial attempts");
  assertEquals(
    m.render(),
    "# HELP macula_dials_total Dial attempts\n# TYPE macula_dials_total counter\nmacula_dials_total 0\n",
  );
});

Deno.test("metrics: counters increment by 1 or n, per label set", () => {
  const m = new MetricsRegistry();
  const c = m.counter("macula_dials_total", "Dial attempts");
  assert(c instanceof Counter);
  c.inc();
  c.inc();
  c.inc({ transport: "quic" });
  c.inc({ transport: "quic" }, 5);
  c.inc({ transport: "tcp" }, 2);
  assertEquals(c.get(), 2);
  assertEquals(c.get({ transport: "quic" }), 6);
  assertEquals(c.get({ transport: "tcp" }), 2);
  assertEquals(c.get({ transport: "memory" }), 0);
  assertEquals(
    m.render(),
    [
      "# HELP macula_dials_total Dial attempts",
      "# TYPE macula_dials_total counter",
      "macula_dials_total 2",
      'macula_dials_total{transport="quic"} 6',
      'macula_dials_total{transport="tcp"} 2',
      "",
    ].join("\n"),
  );
});

Deno.test("metrics: label names are sorted, so label order does not matter", () => {
  const m = new MetricsRegistry();
  const c = m.counter("x_total", "X");
  c.inc({ z: "1", a: "2", m: "3" });
  c.inc({ m: "3", z: "1", a: "2" });
  assertEquals(c.get({ a: "2", m: "3", z: "1" }), 2);
  const lines = m.render().split("\n");
  assertEquals(lines[2], 'x_total{a="2",m="3",z="1"} 2');
  assertEquals(lines.length, 4);
});

Deno.test("metrics: label values escape backslash, double quote and newline", () => {
  const m = new MetricsRegistry();
  const c = m.counter("esc_total", "Escaping");
  c.inc({ path: 'C:\\dir\\"quoted"\nnext' });
  assertEquals(m.render().split("\n")[2], 'esc_total{path="C:\\\\dir\\\\\\"quoted\\"\\nnext"} 1');
  // the escaped and unescaped forms address the same series
  assertEquals(c.get({ path: 'C:\\dir\\"quoted"\nnext' }), 1);
});

Deno.test("metrics: gauges can be set per label set and go down", () => {
  const m = new MetricsRegistry();
  const g = m.gauge("macula_connections", "Open connections");
  assert(g instanceof Gauge);
  g.set({ direction: "inbound" }, 4);
  g.set({ direction: "outbound" }, 2);
  g.set({ direction: "inbound" }, 3);
  assertEquals(g.get({ direction: "inbound" }), 3);
  assertEquals(
    m.render(),
    [
      "# HELP macula_connections Open connections",
      "# TYPE macula_connections gauge",
      'macula_connections{direction="inbound"} 3',
      'macula_connections{direction="outbound"} 2',
      "",
    ].join("\n"),
  );
});

Deno.test("metrics: collected gauges are computed at render time", () => {
  const m = new MetricsRegistry();
  let peers = 1;
  let calls = 0;
  m.gauge("macula_peers", "Known peers", () => {
    calls++;
    return peers;
  });
  assertEquals(calls, 0, "nothing is collected before a scrape");
  assert(m.render().includes("\nmacula_peers 1\n"));
  peers = 42;
  assert(m.render().includes("\nmacula_peers 42\n"));
  assertEquals(calls, 2);
});

Deno.test("metrics: labelled collected gauges replace their series on each render", () => {
  const m = new MetricsRegistry();
  let series: Array<[Record<string, string>, number]> = [[{ t: "quic" }, 1], [{ t: "tcp" }, 2]];
  const g = m.gauge("conns", "Connections", () => series);
  assertEquals(m.render().split("\n").slice(2, 4), ['conns{t="quic"} 1', 'conns{t="tcp"} 2']);
  series = [[{ t: "tcp" }, 5]];
  const text = m.render();
  assert(!text.includes("quic"), "a series that is no longer collected must disappear");
  assert(text.includes('conns{t="tcp"} 5'));
  assertEquals(g.get({ t: "tcp" }), 5);
});

Deno.test("metrics: the same name returns the same metric", () => {
  const m = new MetricsRegistry();
  const a = m.counter("dup_total", "first help");
  const b = m.counter("dup_total", "second help");
  assert(a === b);
  a.inc();
  b.inc();
  assertEquals(a.get(), 2);
  const g1 = m.gauge("dup_gauge", "g");
  assert(m.gauge("dup_gauge", "g") === g1);
  const text = m.render();
  assertEquals(text.match(/# TYPE dup_total /g)?.length, 1, "one family per name");
  assert(text.includes("# HELP dup_total first help"));
});

Deno.test("metrics: families render in registration order, each with HELP before TYPE", () => {
  const m = new MetricsRegistry();
  m.gauge("b_gauge", "B", () => 7);
  m.counter("a_total", "A").inc({}, 3);
  const lines = m.render().split("\n");
  assertEquals(lines, [
    "# HELP b_gauge B",
    "# TYPE b_gauge gauge",
    "b_gauge 7",
    "# HELP a_total A",
    "# TYPE a_total counter",
    "a_total 3",
    "",
  ]);
});
