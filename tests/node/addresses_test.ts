import { assert, assertEquals } from "../helpers/assert.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { announceAddresses } from "../../src/node/addresses.ts";
import type { InterfaceAddress } from "../../src/platform/types.ts";
import { formatAddress, type PeerAddress } from "../../src/transport/address.ts";

const IFACES: InterfaceAddress[] = [
  { name: "lo", address: "127.0.0.1", family: "IPv4", internal: true },
  { name: "lo", address: "::1", family: "IPv6", internal: true },
  { name: "eth0", address: "192.168.1.5", family: "IPv4", internal: false },
  { name: "eth0", address: "fe80::a00:27ff:fe4e:66a1", family: "IPv6", internal: false },
  { name: "eth0", address: "FE80::1", family: "IPv6", internal: false },
  { name: "eth0", address: "fd00::5", family: "IPv6", internal: false },
  { name: "wlan0", address: "10.0.0.7", family: "IPv4", internal: false },
];

const show = (addrs: PeerAddress[]) => addrs.map(formatAddress);

Deno.test("addresses: 0.0.0.0 expands to the external IPv4 addresses (no loopback: others would reach themselves)", () => {
  const out = announceAddresses([{ type: "direct", kind: "tcp", host: "0.0.0.0", port: 9443 }], IFACES);
  assertEquals(show(out), ["tcp://192.168.1.5:9443", "tcp://10.0.0.7:9443"]);
});

Deno.test("addresses: :: expands to external IPv4 and IPv6 but never fe80 link-local", () => {
  for (const wildcard of ["::", "[::]"]) {
    const out = announceAddresses([{ type: "direct", kind: "quic", host: wildcard, port: 7000 }], IFACES);
    assertEquals(show(out), [
      "quic://192.168.1.5:7000",
      "quic://[fd00::5]:7000",
      "quic://10.0.0.7:7000",
    ], wildcard);
  }
});

Deno.test("addresses: the expanded addresses keep the listener's kind, port and id", () => {
  const id = new NodeId(KeyPair.generate().publicKey);
  const listen: PeerAddress = { type: "direct", kind: "quic", host: "0.0.0.0", port: 1234, id };
  const out = announceAddresses([listen], [{ name: "e", address: "10.1.1.1", family: "IPv4", internal: false }]);
  assertEquals(out, [{ type: "direct", kind: "quic", host: "10.1.1.1", port: 1234, id }]);
  assert(out.every((a) => a.id === id));
  assertEquals(listen.host, "0.0.0.0", "the input must not be mutated");
});

Deno.test("addresses: with no external interfaces a wildcard yields loopback only", () => {
  const out = announceAddresses(
    [{ type: "direct", kind: "tcp", host: "0.0.0.0", port: 1 }],
    IFACES.filter((i) => i.internal),
  );
  assertEquals(show(out), ["tcp://127.0.0.1:1"]);
  assertEquals(show(announceAddresses([{ type: "direct", kind: "tcp", host: "::", port: 1 }], [])), [
    "tcp://127.0.0.1:1",
  ]);
});

Deno.test("addresses: concrete hosts pass through unchanged", () => {
  const listen: PeerAddress[] = [
    { type: "direct", kind: "quic", host: "203.0.113.4", port: 9443 },
    { type: "direct", kind: "tcp", host: "fd00::9", port: 9443 },
    { type: "direct", kind: "memory", host: "node-a", port: 0 },
  ];
  assertEquals(announceAddresses(listen, IFACES), listen);
});

Deno.test("addresses: duplicates are removed; an explicit loopback listener is kept, last", () => {
  const out = announceAddresses([
    { type: "direct", kind: "tcp", host: "127.0.0.1", port: 9443 },
    { type: "direct", kind: "tcp", host: "0.0.0.0", port: 9443 },
    { type: "direct", kind: "tcp", host: "192.168.1.5", port: 9443 },
    { type: "direct", kind: "quic", host: "0.0.0.0", port: 9443 },
    { type: "direct", kind: "tcp", host: "0.0.0.0", port: 9443 },
  ], IFACES);
  const shown = show(out);
  assertEquals(new Set(shown).size, shown.length, `duplicates in ${shown}`);
  assertEquals(shown, [
    "tcp://192.168.1.5:9443",
    "tcp://10.0.0.7:9443",
    "quic://192.168.1.5:9443",
    "quic://10.0.0.7:9443",
    "tcp://127.0.0.1:9443",
  ]);
});

Deno.test("addresses: an empty listen list announces nothing", () => {
  assertEquals(announceAddresses([], IFACES), []);
});
