import { assert, assertEquals } from "../helpers/assert.ts";
import { classifyMapping, isPublicIp, type Observation, ObservationLog, splitHostPort } from "../../src/nat/mapping.ts";

const at = 1_000_000;
function obs(observed: string, by: string, peer: string, extra: Partial<Observation> = {}): Observation {
  return { transport: "quic", observed, by, peer, at, ...extra };
}

Deno.test("mapping: the same public port towards two peer endpoints is endpoint-independent", () => {
  const m = classifyMapping([
    obs("198.51.100.2:9443", "a", "203.0.113.10:9443"),
    obs("198.51.100.2:9443", "b", "203.0.113.11:9443"),
  ], { listenPort: 9443 });
  assertEquals(m, {
    type: "endpoint-independent",
    portPreserving: true,
    publicIp: "198.51.100.2",
    observed: ["quic://198.51.100.2:9443"],
  });
});

Deno.test("mapping: different ports are endpoint-dependent, and not port-preserving", () => {
  const m = classifyMapping([
    obs("198.51.100.2:40001", "a", "203.0.113.10:9443"),
    obs("198.51.100.2:51234", "b", "203.0.113.11:9443", { at: at + 1 }),
  ], { listenPort: 9443 });
  assertEquals(m.type, "endpoint-dependent");
  assertEquals(m.portPreserving, false);
  assertEquals(m.observed, ["quic://198.51.100.2:51234", "quic://198.51.100.2:40001"]);
});

Deno.test("mapping: one peer endpoint, TCP only, or private addresses only stay unknown", () => {
  const one = classifyMapping([obs("198.51.100.2:9443", "a", "203.0.113.10:9443")], { listenPort: 9443 });
  assertEquals([one.type, one.portPreserving, one.publicIp], ["unknown", true, "198.51.100.2"]);
  // The same peer reporting twice is still one endpoint.
  const same = classifyMapping([
    obs("198.51.100.2:9443", "a", "203.0.113.10:9443"),
    obs("198.51.100.2:9444", "a2", "203.0.113.10:9443"),
  ]);
  assertEquals(same.type, "unknown");
  const tcp = classifyMapping([
    obs("198.51.100.2:50000", "a", "203.0.113.10:9443", { transport: "tcp" }),
    obs("198.51.100.2:50001", "b", "203.0.113.11:9443", { transport: "tcp" }),
  ], { listenPort: 9443 });
  assertEquals([tcp.type, tcp.portPreserving, tcp.publicIp], ["unknown", false, "198.51.100.2"]);
  const lan = classifyMapping([
    obs("10.1.0.10:9443", "a", "10.1.0.11:9443"),
    obs("10.1.0.10:9443", "b", "10.1.0.12:9443"),
  ]);
  assertEquals([lan.type, lan.publicIp], ["unknown", undefined]);
  assertEquals(lan.observed, ["quic://10.1.0.10:9443"]);
  const lanCounted = classifyMapping(
    [obs("10.1.0.10:9443", "a", "10.1.0.11:9443"), obs("10.1.0.10:9443", "b", "10.1.0.12:9443")],
    { includePrivate: true },
  );
  assertEquals(lanCounted.type, "endpoint-independent");
});

Deno.test("mapping: a LAN peer's view does not make a public mapping look endpoint-dependent", () => {
  const m = classifyMapping([
    obs("10.1.0.10:9443", "lan", "10.1.0.11:9443"),
    obs("198.51.100.2:9443", "a", "203.0.113.10:9443"),
    obs("198.51.100.2:9443", "b", "203.0.113.11:9443"),
  ]);
  assertEquals(m.type, "endpoint-independent");
});

Deno.test("mapping: public and private IPs", () => {
  for (const ip of ["203.0.113.7", "198.51.100.2", "8.8.8.8", "2001:db8::1", "172.32.0.1"]) assert(isPublicIp(ip), ip);
  for (
    const ip of [
      "10.0.0.1",
      "127.0.0.1",
      "192.168.1.1",
      "172.16.0.1",
      "172.31.255.255",
      "169.254.1.1",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.251",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:10.0.0.1",
      "example.com",
      "1.2.3",
      "300.1.1.1",
    ]
  ) assert(!isPublicIp(ip), ip);
  assertEquals(splitHostPort("[2001:db8::1]:443"), { host: "2001:db8::1", port: 443 });
  assertEquals(splitHostPort("1.2.3.4:0"), null);
  assertEquals(splitHostPort("unknown"), null);
});

Deno.test("observation log: newest report per peer and transport, bounded, expiring", () => {
  const log = new ObservationLog({ max: 3, maxAge: 1000 });
  assert(log.add(obs("198.51.100.2:9443", "a", "p:1")));
  assert(!log.add(obs("198.51.100.2:9443", "a", "p:1", { at: at + 1 })), "same address again is no change");
  assert(log.add(obs("198.51.100.2:9444", "a", "p:1", { at: at + 2 })));
  assertEquals(log.list(at + 2).length, 1);
  assert(!log.add(obs("198.51.100.2:9444", "b", "p:2")), "another peer seeing the same address is no change");
  log.add(obs("198.51.100.2:9443", "c", "p:3"));
  log.add(obs("198.51.100.2:9443", "d", "p:4"));
  assertEquals(log.list(at + 2).map((o) => o.by), ["d", "c", "b"]);
  assertEquals(log.list(at + 5000), []);
});
