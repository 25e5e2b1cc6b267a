import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { formatAddress, parseAddress, type PeerAddress } from "../../src/transport/address.ts";
import { AddressError } from "../../src/transport/errors.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";

const id = new NodeId(KeyPair.generate().publicKey);
const did = id.did;

function fields(a: PeerAddress) {
  return { kind: a.kind, host: a.host, port: a.port, id: a.id?.did };
}

Deno.test("address: quic/tcp with IPv4, hostnames and bracketed IPv6 parse into their parts", () => {
  const cases: Array<[string, { kind: PeerAddress["kind"]; host: string; port: number }]> = [
    ["quic://192.168.1.20:9443", { kind: "quic", host: "192.168.1.20", port: 9443 }],
    ["tcp://127.0.0.1:1", { kind: "tcp", host: "127.0.0.1", port: 1 }],
    ["tcp://10.0.0.1:65535", { kind: "tcp", host: "10.0.0.1", port: 65535 }],
    ["quic://node-1.example.org:443", { kind: "quic", host: "node-1.example.org", port: 443 }],
    ["tcp://localhost:8080", { kind: "tcp", host: "localhost", port: 8080 }],
    ["quic://[fd00::2]:9443", { kind: "quic", host: "fd00::2", port: 9443 }],
    ["tcp://[::1]:7000", { kind: "tcp", host: "::1", port: 7000 }],
    ["tcp://[::ffff:10.0.0.1]:7000", { kind: "tcp", host: "::ffff:10.0.0.1", port: 7000 }],
    ["memory://alpha", { kind: "memory", host: "alpha", port: 0 }],
  ];
  for (const [text, expected] of cases) {
    const a = parseAddress(text);
    assertEquals(fields(a), { ...expected, id: undefined }, text);
    assertEquals(a.id, undefined, text);
  }
});

Deno.test("address: the /did:key suffix is parsed into a NodeId", () => {
  for (const base of ["quic://10.0.0.5:9443", "tcp://[fd00::2]:9443", "tcp://host.lan:1234", "memory://beta"]) {
    const a = parseAddress(`${base}/${did}`);
    assert(a.id instanceof NodeId, base);
    assert(a.id.equals(id), base);
  }
});

Deno.test("address: format(parse(x)) === x for canonical addresses, with and without id", () => {
  const bases = [
    "quic://192.168.1.20:9443",
    "tcp://127.0.0.1:1",
    "tcp://10.0.0.1:65535",
    "quic://node-1.example.org:443",
    "quic://[fd00::2]:9443",
    "tcp://[::1]:7000",
    "memory://alpha",
  ];
  for (const base of bases) {
    assertEquals(formatAddress(parseAddress(base)), base);
    const withId = `${base}/${did}`;
    assertEquals(formatAddress(parseAddress(withId)), withId);
  }
});

Deno.test("address: parse(format(a)) restores the address object", () => {
  const addrs: PeerAddress[] = [
    { kind: "quic", host: "fe80::1", port: 9443, id },
    { kind: "tcp", host: "203.0.113.9", port: 80 },
    { kind: "memory", host: "n1", port: 0, id },
    { kind: "tcp", host: "example.com", port: 65535, id },
  ];
  for (const a of addrs) {
    const text = formatAddress(a);
    assertEquals(fields(parseAddress(text)), fields(a), text);
  }
  assertEquals(formatAddress({ kind: "quic", host: "::1", port: 5 }), "quic://[::1]:5");
  assertEquals(formatAddress({ kind: "memory", host: "m", port: 123 }), "memory://m");
  assertEquals(formatAddress({ kind: "tcp", host: "1.2.3.4", port: 5, id }), `tcp://1.2.3.4:5/${did}`);
});

Deno.test("address: surrounding whitespace is tolerated", () => {
  const a = parseAddress(`  tcp://1.2.3.4:5/${did}\n`);
  assertEquals(fields(a), { kind: "tcp", host: "1.2.3.4", port: 5, id: did });
});

Deno.test("address: requireId accepts addresses with an id and rejects those without", () => {
  const a = parseAddress(`quic://1.2.3.4:9443/${did}`, { requireId: true });
  assert(a.id?.equals(id));
  const e = assertThrows(
    () => parseAddress("quic://1.2.3.4:9443", { requireId: true }),
    AddressError,
    "does not name the node id",
  );
  assert(e.message.includes("quic://1.2.3.4:9443"), e.message);
  assertThrows(() => parseAddress("memory://x", { requireId: true }), AddressError, "node id");
  // without the option the same address is fine
  assertEquals(parseAddress("quic://1.2.3.4:9443").id, undefined);
});

Deno.test("address: bad schemes are rejected with the expected format in the message", () => {
  for (const bad of ["udp://1.2.3.4:5", "http://1.2.3.4:5", "QUIC://1.2.3.4:5", "quic:/1.2.3.4:5", "1.2.3.4:5"]) {
    const e = assertThrows(() => parseAddress(bad), AddressError, "invalid address", bad);
    assert(e.message.includes(JSON.stringify(bad)), e.message);
    assert(e.message.includes("quic://HOST:PORT"), e.message);
    assertEquals((e as AddressError).code, "E_ADDRESS_INVALID");
  }
});

Deno.test("address: a missing port is reported as such for quic and tcp", () => {
  for (const bad of ["quic://1.2.3.4", "tcp://example.com", "tcp://[::1]", `quic://1.2.3.4/${did}`]) {
    assertThrows(() => parseAddress(bad), AddressError, "has no port", bad);
  }
});

Deno.test("address: ports outside 1-65535 are rejected", () => {
  for (const bad of ["quic://1.2.3.4:0", "tcp://1.2.3.4:00000", "tcp://1.2.3.4:65536", "quic://[::1]:99999"]) {
    assertThrows(() => parseAddress(bad), AddressError, "port out of range 1-65535", bad);
  }
  // more than five digits does not even match the pattern
  assertThrows(() => parseAddress("tcp://1.2.3.4:123456"), AddressError, "invalid address");
  assertThrows(() => parseAddress("tcp://1.2.3.4:-1"), AddressError, "invalid address");
  assertThrows(() => parseAddress("tcp://1.2.3.4:"), AddressError, "invalid address");
  assertThrows(() => parseAddress("tcp://1.2.3.4:80a"), AddressError, "invalid address");
});

Deno.test("address: junk and malformed hosts are rejected", () => {
  const junk = [
    "",
    " ",
    "junk",
    "quic://",
    "quic://:9443",
    "tcp://[]:1",
    "tcp://[zz::1]:1",
    "tcp://::1:7000", // IPv6 must be bracketed
    "tcp://[::1:7000",
    "tcp://a b:1",
    "tcp://host:1:2",
    "memory://",
  ];
  for (const bad of junk) {
    assertThrows(() => parseAddress(bad), AddressError, "invalid address", JSON.stringify(bad));
  }
});

Deno.test("address: a bad did suffix is an AddressError mentioning the node id", () => {
  const bads = [
    "tcp://1.2.3.4:5/did:key:zNOTBASE58!",
    "tcp://1.2.3.4:5/did:web:example.com",
    "tcp://1.2.3.4:5/hello",
    `tcp://1.2.3.4:5/${did}x`,
    `tcp://1.2.3.4:5/${did.slice(0, -3)}`,
    `tcp://1.2.3.4:5/${did}/extra`,
    "tcp://1.2.3.4:5/did:key:z", // empty key
  ];
  for (const bad of bads) {
    const e = assertThrows(() => parseAddress(bad), AddressError, "bad node id", bad);
    assert(e.message.includes(JSON.stringify(bad)), e.message);
  }
});

Deno.test("address: overlong strings are rejected before parsing", () => {
  const long = `tcp://${"a".repeat(600)}:1`;
  assertThrows(() => parseAddress(long), AddressError, "at most 512 characters");
  // exactly 512 characters is allowed through to the pattern (and here parses)
  const host = "h".repeat(512 - "tcp://".length - ":1".length);
  const ok = `tcp://${host}:1`;
  assertEquals(ok.length, 512);
  assertEquals(parseAddress(ok).host, host);
  assertThrows(() => parseAddress(ok + "0"), AddressError, "at most 512 characters");
});

Deno.test("address: non-string input is an AddressError, not a TypeError", () => {
  for (const bad of [undefined, null, 9443, {}, ["tcp://1.2.3.4:5"], new String("tcp://1.2.3.4:5")]) {
    assertThrows(() => parseAddress(bad as unknown as string), AddressError, "must be a string", String(bad));
  }
});
