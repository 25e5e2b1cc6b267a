import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { formatAddress, isTransportName, parseAddress, type PeerAddress } from "../../src/transport/address.ts";
import { utf8 } from "../../src/util/bytes.ts";
import { mutate, rng } from "../helpers/mutate.ts";
import { AddressError } from "../../src/transport/errors.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";

const id = new NodeId(KeyPair.generate().publicKey);
const did = id.did;

function fields(a: PeerAddress) {
  if (a.type !== "direct") throw new Error(`expected a direct address, got ${a.type}`);
  return { type: a.type, kind: a.kind, host: a.host, port: a.port, id: a.id?.did };
}

Deno.test("address: quic/tcp with IPv4, hostnames and bracketed IPv6 parse into their parts", () => {
  const cases: Array<[string, { type: "direct"; kind: string; host: string; port: number }]> = [
    ["quic://192.168.1.20:9443", { type: "direct", kind: "quic", host: "192.168.1.20", port: 9443 }],
    ["tcp://127.0.0.1:1", { type: "direct", kind: "tcp", host: "127.0.0.1", port: 1 }],
    ["tcp://10.0.0.1:65535", { type: "direct", kind: "tcp", host: "10.0.0.1", port: 65535 }],
    ["quic://node-1.example.org:443", { type: "direct", kind: "quic", host: "node-1.example.org", port: 443 }],
    ["tcp://localhost:8080", { type: "direct", kind: "tcp", host: "localhost", port: 8080 }],
    ["quic://[fd00::2]:9443", { type: "direct", kind: "quic", host: "fd00::2", port: 9443 }],
    ["tcp://[::1]:7000", { type: "direct", kind: "tcp", host: "::1", port: 7000 }],
    ["tcp://[::ffff:10.0.0.1]:7000", { type: "direct", kind: "tcp", host: "::ffff:10.0.0.1", port: 7000 }],
    ["memory://alpha", { type: "direct", kind: "memory", host: "alpha", port: 0 }],
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
    { type: "direct", kind: "quic", host: "fe80::1", port: 9443, id },
    { type: "direct", kind: "tcp", host: "203.0.113.9", port: 80 },
    { type: "direct", kind: "memory", host: "n1", port: 0, id },
    { type: "direct", kind: "tcp", host: "example.com", port: 65535, id },
  ];
  for (const a of addrs) {
    const text = formatAddress(a);
    assertEquals(fields(parseAddress(text)), fields(a), text);
  }
  assertEquals(formatAddress({ type: "direct", kind: "quic", host: "::1", port: 5 }), "quic://[::1]:5");
  assertEquals(formatAddress({ type: "direct", kind: "memory", host: "m", port: 123 }), "memory://m");
  assertEquals(formatAddress({ type: "direct", kind: "tcp", host: "1.2.3.4", port: 5, id }), `tcp://1.2.3.4:5/${did}`);
});

Deno.test("address: surrounding whitespace is tolerated", () => {
  const a = parseAddress(`  tcp://1.2.3.4:5/${did}\n`);
  assertEquals(fields(a), { type: "direct", kind: "tcp", host: "1.2.3.4", port: 5, id: did });
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
  for (const bad of ["QUIC://1.2.3.4:5", "quic:/1.2.3.4:5", "1.2.3.4:5", "9p://1.2.3.4:5", "-x://h", "a_b://h:1"]) {
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
  assertEquals(fields(parseAddress(ok)).host, host);
  assertThrows(() => parseAddress(ok + "0"), AddressError, "at most 512 characters");
});

Deno.test("address: non-string input is an AddressError, not a TypeError", () => {
  for (const bad of [undefined, null, 9443, {}, ["tcp://1.2.3.4:5"], new String("tcp://1.2.3.4:5")]) {
    assertThrows(() => parseAddress(bad as unknown as string), AddressError, "must be a string", String(bad));
  }
});

// ------------------------------------------------------------- open schemes

Deno.test("address: any transport name is a scheme; its port is optional", () => {
  const cases: Array<[string, { kind: string; host: string; port: number }]> = [
    ["udp://1.2.3.4:5", { kind: "udp", host: "1.2.3.4", port: 5 }],
    ["webrtc://peer-7", { kind: "webrtc", host: "peer-7", port: 0 }],
    ["ws+tls://example.org:443", { kind: "ws+tls", host: "example.org", port: 443 }],
    ["my.link-2://[::1]:9", { kind: "my.link-2", host: "::1", port: 9 }],
  ];
  for (const [text, expected] of cases) {
    assertEquals(fields(parseAddress(text)), { type: "direct", ...expected, id: undefined }, text);
    assertEquals(formatAddress(parseAddress(text)), text);
    assertEquals(formatAddress(parseAddress(`${text}/${did}`)), `${text}/${did}`);
  }
  assertThrows(() => parseAddress("udp://1.2.3.4:0"), AddressError, "port out of range");
  // memory addresses have no port: one given is dropped
  assertEquals(fields(parseAddress("memory://m:7")).port, 0);
});

Deno.test("address: isTransportName accepts scheme-shaped names only", () => {
  for (const ok of ["quic", "tcp", "memory", "webrtc", "ws+tls", "a.b-c"]) assert(isTransportName(ok), ok);
  for (const bad of ["", "QUIC", "1tcp", "a b", "tcp:", "x".repeat(33), 5, null]) {
    assert(!isTransportName(bad), String(bad));
  }
});

// ------------------------------------------------------------------ relayed

const relayId = new NodeId(KeyPair.generate().publicKey);

Deno.test("address: a relayed address parses into the relay's direct address and the target", () => {
  const text = `quic://1.2.3.4:9443/${relayId.did}/circuit/${did}`;
  const a = parseAddress(text, { requireId: true });
  assertEquals(a.type, "relayed");
  if (a.type !== "relayed") return;
  assert(a.id.equals(id));
  assert(a.relay.id.equals(relayId));
  assertEquals(fields(a.relay), { type: "direct", kind: "quic", host: "1.2.3.4", port: 9443, id: relayId.did });
  assertEquals(formatAddress(a), text);
});

Deno.test("address: relayed addresses round-trip through format and parse", () => {
  const addrs: PeerAddress[] = [
    { type: "relayed", relay: { type: "direct", kind: "tcp", host: "fd00::9", port: 1, id: relayId }, id },
    { type: "relayed", relay: { type: "direct", kind: "memory", host: "r", port: 0, id: relayId }, id },
    { type: "relayed", relay: { type: "direct", kind: "webrtc", host: "r.example", port: 0, id: relayId }, id },
  ];
  for (const a of addrs) {
    const text = formatAddress(a);
    assert(text.includes("/circuit/"), text);
    const back = parseAddress(text);
    assertEquals(formatAddress(back), text);
    assertEquals(back.type, "relayed");
    if (back.type === "relayed" && a.type === "relayed") {
      assertEquals(fields(back.relay), fields(a.relay));
      assert(back.id.equals(a.id));
    }
  }
});

Deno.test("address: malformed relayed addresses are AddressErrors that say what is wrong", () => {
  const base = "quic://1.2.3.4:9443";
  const cases: Array<[string, string]> = [
    [`${base}/circuit/${did}`, "must name the relay's node id"],
    [`${base}//circuit/${did}`, "must name the relay's node id"],
    [`${base}/${relayId.did}/circuit/`, "bad target node id"],
    [`${base}/${relayId.did}/circuit/junk`, "bad target node id"],
    [`${base}/did:key:zzz/circuit/${did}`, "bad relay node id"],
    [`${base}/${relayId.did}/circuit/${did}/circuit/${did}`, "bad target node id"],
    [`quic://1.2.3.4/${relayId.did}/circuit/${did}`, "has no port"],
  ];
  for (const [bad, why] of cases) {
    const e = assertThrows(() => parseAddress(bad), AddressError, why, bad);
    assert(e.message.includes(JSON.stringify(bad)), e.message);
  }
});

// --------------------------------------------------------------------- fuzz

Deno.test("address: 10,000 random and mutated strings parse or throw AddressError, nothing else", () => {
  const r = rng(0xadd7);
  const pick = (n: number) => Math.floor(r() * n);
  const seeds = [
    `quic://192.168.1.20:9443/${did}`,
    `tcp://[fd00::2]:9443/${did}`,
    "memory://alpha",
    `webrtc://peer/${did}`,
    `quic://1.2.3.4:9443/${relayId.did}/circuit/${did}`,
  ];
  const alphabet = "abcdefghijklmnopqrstuvwxyzQUIC0123456789:/[].-+_ %\u00e9\u0000\n";
  let parsed = 0;
  for (let i = 0; i < 10_000; i++) {
    let text: string;
    if (i % 4 === 0) {
      text = Array.from({ length: pick(80) }, () => alphabet[pick(alphabet.length)]).join("");
    } else {
      const bytes = mutate(utf8(seeds[i % seeds.length]), i);
      text = new TextDecoder().decode(bytes);
    }
    try {
      const a = parseAddress(text);
      parsed++;
      // whatever parses formats to something that parses to the same place
      assertEquals(formatAddress(parseAddress(formatAddress(a))), formatAddress(a), text);
    } catch (error) {
      if (!(error instanceof AddressError)) throw new Error(`case ${i} ${JSON.stringify(text)}: ${error}`);
    }
  }
  assert(parsed > 100, `only ${parsed} cases parsed; the mutations are too destructive to be useful`);
});
