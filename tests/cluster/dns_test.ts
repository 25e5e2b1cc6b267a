/** The mDNS wire codec: round trips, compression, every bad-input class, and a 10,000-case mutation loop. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { mutate, rng } from "../helpers/mutate.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { WireError } from "../../src/wire/errors.ts";
import { decodeDns, type DnsMessage, DnsType, encodeDns, MAX_DNS_MESSAGE } from "../../src/cluster/mdns/dns.ts";
import { candidatesIn, MDNS_SERVICE, serviceRecords } from "../../src/cluster/mdns/mdns.ts";

const id = new NodeId(KeyPair.generate().publicKey);
const other = new NodeId(KeyPair.generate().publicKey);
const iface = { name: "eth0", address: "192.168.1.20", netmask: "255.255.255.0" };

function response(of: NodeId, port: number): DnsMessage {
  const [ptr, ...rest] = serviceRecords(of, iface, port);
  return { id: 0, response: true, questions: [], answers: [ptr], authorities: [], additionals: rest };
}

Deno.test("dns: a response round-trips, AAAA and unknown types included", () => {
  const m = response(other, 40123);
  m.additionals.push({ name: "x.local", type: DnsType.AAAA, ttl: 5, address: "fd00:0:0:0:0:0:0:2" });
  m.additionals.push({ name: "x.local", type: 99, ttl: 5, data: new Uint8Array([1, 2]), other: true });
  const back = decodeDns(encodeDns(m));
  assertEquals(back.response, true);
  assertEquals(back.answers[0], {
    name: MDNS_SERVICE,
    type: DnsType.PTR,
    ttl: 120,
    cacheFlush: false,
    target: `macula-${other.short}.${MDNS_SERVICE}`,
  });
  const srv = back.additionals.find((r) => r.type === DnsType.SRV)!;
  assertEquals("port" in srv && srv.port, 40123);
  const txt = back.additionals.find((r) => r.type === DnsType.TXT)!;
  assertEquals("strings" in txt && txt.strings, ["v=1", `id=${other.did}`]);
  const aaaa = back.additionals.find((r) => r.type === DnsType.AAAA)!;
  assertEquals("address" in aaaa && aaaa.address, "fd00:0:0:0:0:0:0:2");
  assertEquals(back.additionals.at(-1), {
    name: "x.local",
    type: 99,
    ttl: 5,
    cacheFlush: false,
    data: new Uint8Array([1, 2]),
    other: true,
  });
});

Deno.test("dns: candidates come from SRV + A, skip our own instance, fall back to the source address", () => {
  const from = { hostname: "192.168.1.99", port: 5353 };
  assertEquals(candidatesIn(response(other, 40123), from, id), [{ hostname: "192.168.1.20", port: 40123 }]);
  assertEquals(candidatesIn(response(id, 40123), from, id), []);
  const noA = response(other, 40123);
  noA.additionals = noA.additionals.filter((r) => r.type !== DnsType.A);
  assertEquals(candidatesIn(noA, from, id), [{ hostname: "192.168.1.99", port: 40123 }]);
  const query = { ...response(other, 1), response: false };
  assertEquals(candidatesIn(query, from, id), []);
});

Deno.test("dns: compressed names are followed backwards", () => {
  // header, question "a.local" PTR, answer with name = pointer to offset 12, rdata "b" + pointer to 14 ("local")
  const bytes = new Uint8Array([
    0,
    0,
    0x84,
    0,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    0,
    1,
    0x61,
    5,
    0x6c,
    0x6f,
    0x63,
    0x61,
    0x6c,
    0,
    0,
    12,
    0,
    1,
    0xc0,
    12,
    0,
    12,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    4,
    1,
    0x62,
    0xc0,
    14,
  ]);
  const m = decodeDns(bytes);
  assertEquals(m.questions, [{ name: "a.local", type: 12, unicastResponse: false }]);
  assertEquals(m.answers[0].name, "a.local");
  assertEquals("target" in m.answers[0] && m.answers[0].target, "b.local");
});

Deno.test("dns: bad input — truncated, oversized, loops, forward pointers, long names, bad lengths", () => {
  const valid = encodeDns(response(other, 40123));
  const bad: Array<[Uint8Array, string]> = [
    [valid.subarray(0, 5), "needs"],
    [valid.subarray(0, valid.length - 3), ""],
    [new Uint8Array(MAX_DNS_MESSAGE + 1), "oversized"],
    // a name that is a pointer to itself
    [new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]), "backwards"],
    // a forward pointer
    [new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0]), "backwards"],
    // label type 0x40 (reserved)
    [new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0x61, 0, 0, 1, 0, 1]), "label type"],
    // a label running past the end
    [new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0x61]), "past the end"],
    // a name longer than 255 bytes
    [
      Uint8Array.from([
        0,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        ...Array(5).fill([63, ...Array(63).fill(0x61)]).flat(),
        0,
        0,
        1,
        0,
        1,
      ]),
      "255",
    ],
    // an A record of 3 bytes
    [Uint8Array.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3]), "4 bytes"],
    // a TXT string running past its record
    [Uint8Array.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 0x61]), "TXT"],
    // an SRV whose rdlength is longer than its contents
    [
      Uint8Array.from([
        0,
        0,
        0x84,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        33,
        0,
        1,
        0,
        0,
        0,
        1,
        0,
        8,
        0,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
      ]),
      "wrong length",
    ],
    // too many records
    [Uint8Array.from([0, 0, 0x84, 0, 0, 0, 1, 1, 0, 0, 0, 0]), "too many"],
    // invalid UTF-8 in a label
    [Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1, 0, 1]), "UTF-8"],
  ];
  for (const [bytes, fragment] of bad) assertThrows(() => decodeDns(bytes), WireError, fragment);
  assertThrows(() => decodeDns("x" as unknown as Uint8Array), WireError);
});

Deno.test("fuzz dns: 10,000 mutations of a response and of a query decode or throw WireError", () => {
  const samples = [
    encodeDns(response(other, 40123)),
    encodeDns({
      id: 0,
      response: false,
      questions: [{ name: MDNS_SERVICE, type: DnsType.PTR }],
      answers: [],
      authorities: [],
      additionals: [],
    }),
  ];
  for (const valid of samples) {
    let rejected = 0;
    for (let i = 0; i < 10_000; i++) {
      try {
        decodeDns(mutate(valid, i));
      } catch (error) {
        if (!(error instanceof WireError)) {
          throw new Error(`case ${i}: ${(error as Error)?.constructor?.name}: ${(error as Error).message}`);
        }
        rejected++;
      }
    }
    assert(rejected > 1000, `suspiciously few rejections (${rejected})`);
  }
  // random bytes, including random pointer soup
  const r = rng(42);
  for (let i = 0; i < 10_000; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(r() * 300) }, () => (r() < 0.2 ? 0xc0 : Math.floor(r() * 256)));
    try {
      decodeDns(bytes);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
    }
  }
});
