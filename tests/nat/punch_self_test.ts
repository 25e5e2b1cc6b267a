/**
 * The punch service's own view of the node's public side: parsing observed
 * addresses, the mapping judged from several peers' reports (same port:
 * endpoint-independent; different: endpoint-dependent; one report:
 * unknown; old reports forgotten), the candidate list, and which peer
 * candidates we agree to send to.
 */
import { assertEquals } from "../helpers/assert.ts";
import { isDialableCandidate, ObservedSelf, parseHostPort, punchCandidates } from "../../src/nat/punch-self.ts";
import { MAX_CANDIDATES } from "../../src/nat/punch-messages.ts";

Deno.test("parseHostPort takes IPv4 and bracketed IPv6 with a port, nothing else", () => {
  assertEquals(parseHostPort("203.0.113.7:9443"), { hostname: "203.0.113.7", port: 9443 });
  assertEquals(parseHostPort("[2001:db8::1]:40000"), { hostname: "2001:db8::1", port: 40000 });
  for (const bad of ["203.0.113.7", "203.0.113.7:0", "203.0.113.7:70000", "example.com:1", "unknown", "[::1]", ""]) {
    assertEquals(parseHostPort(bad), null, bad);
  }
});

Deno.test("ObservedSelf: one report is unknown, equal ports endpoint-independent, different ports endpoint-dependent", () => {
  const at = Date.now();
  const self = new ObservedSelf();
  self.add({ by: "a", address: "198.51.100.2:9443", at });
  assertEquals(self.view(at).mapping, "unknown");
  assertEquals(self.view(at).publicHosts, ["198.51.100.2"]);
  self.add({ by: "b", address: "198.51.100.2:9443", at: at + 1 });
  assertEquals(self.view(at + 1).mapping, "endpoint-independent");
  assertEquals(self.view(at + 1).listen, [{ hostname: "198.51.100.2", port: 9443 }]);
  self.add({ by: "b", address: "198.51.100.2:61002", at: at + 2 });
  const view = self.view(at + 2);
  assertEquals(view.mapping, "endpoint-dependent");
  assertEquals(view.listen.map((a) => a.port), [61002, 9443]);
  self.add({ by: "c", address: "garbage", at: at + 3 });
  assertEquals(self.view(at + 3).listen.length, 2);
});

Deno.test("ObservedSelf forgets old reports and keeps a bounded number of peers", () => {
  const self = new ObservedSelf({ max: 2, maxAge: 1_000 });
  self.add({ by: "a", address: "198.51.100.2:1000", at: 0 });
  self.add({ by: "b", address: "198.51.100.2:2000", at: 500 });
  assertEquals(self.view(600).mapping, "endpoint-dependent");
  assertEquals(self.view(1_200).mapping, "unknown"); // a's report is too old
  self.add({ by: "c", address: "198.51.100.2:2000", at: 1_300 });
  assertEquals(self.view(1_300).listen.length, 1); // a was evicted, b and c agree
  assertEquals(self.view(1_300).mapping, "endpoint-independent");
});

Deno.test("punchCandidates: public IPs with the punch port, then listening addresses, then local ones; deduplicated and bounded", () => {
  const view = {
    publicHosts: ["198.51.100.2", "198.51.100.9"],
    listen: [{ hostname: "198.51.100.2", port: 9443 }],
    mapping: "endpoint-independent" as const,
  };
  assertEquals(punchCandidates(view, 40000, ["10.1.0.10", "198.51.100.2"]), [
    { hostname: "198.51.100.2", port: 40000 },
    { hostname: "198.51.100.9", port: 40000 },
    { hostname: "198.51.100.2", port: 9443 },
    { hostname: "10.1.0.10", port: 40000 },
  ]);
  const many = Array.from({ length: 20 }, (_, i) => `10.0.0.${i + 1}`);
  assertEquals(punchCandidates(view, 40000, many).length, MAX_CANDIDATES);
});

Deno.test("isDialableCandidate refuses unspecified, multicast and broadcast addresses", () => {
  for (const ok of ["203.0.113.7", "10.1.0.10", "127.0.0.1", "2001:db8::1"]) {
    assertEquals(isDialableCandidate({ hostname: ok, port: 1 }), true, ok);
  }
  for (const bad of ["0.0.0.0", "224.0.0.1", "239.1.1.1", "255.255.255.255", "::", "ff02::1", "300.1.1.1", "x"]) {
    assertEquals(isDialableCandidate({ hostname: bad, port: 1 }), false, bad);
  }
  assertEquals(isDialableCandidate({ hostname: "203.0.113.7", port: 0 }), false);
});
