/** Cluster message bodies: round trips, alive tokens, bad input and a 10,000-case mutation loop. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { mutate } from "../helpers/mutate.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { createNodeRecord } from "../../src/identity/node-record.ts";
import { equals } from "../../src/util/bytes.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { openEnvelope, sealEnvelope } from "../../src/cluster/envelope.ts";
import { DatagramDropError } from "../../src/cluster/errors.ts";
import { ClusterKey } from "../../src/cluster/hmac.ts";
import { ReplayGuard } from "../../src/cluster/replay-guard.ts";
import {
  createAliveToken,
  decodeMessage,
  encodeMessage,
  type Message,
  verifyAliveToken,
} from "../../src/cluster/messages.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";

const kp = KeyPair.generate();
const id = new NodeId(kp.publicKey);
const other = new NodeId(KeyPair.generate().publicKey);
const token = createAliveToken(signerOf(kp), 3, ["10.0.0.5:40123", "192.168.1.9:40123"]);
const nonce = new Uint8Array(8).fill(7);
const record = createNodeRecord(kp, { addrs: ["quic://10.0.0.5:9443", "tcp://10.0.0.5:9443"], realms: ["default"] });
const updates = [
  { kind: "alive" as const, token },
  { kind: "suspect" as const, id: other, incarnation: 2, by: id },
  { kind: "dead" as const, id: other, incarnation: 4, by: other },
];

const SAMPLES: Message[] = [
  { type: "announce", record, token, reply: true },
  { type: "ping", nonce, target: other, relayed: false, updates },
  { type: "ack", nonce, updates: [] },
  { type: "ping-req", nonce, target: other, addr: "10.0.0.9:7946", updates },
  { type: "forward-ack", nonce, inner: new Uint8Array(200).fill(1), updates: [] },
  { type: "nack", nonce, updates },
  { type: "gossip", updates },
];

function normal(m: Message): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v) => v instanceof Uint8Array ? [...v] : v));
}

Deno.test("messages: every type round-trips", () => {
  for (const m of SAMPLES) assertEquals(normal(decodeMessage(encodeMessage(m))), normal(m));
});

Deno.test("messages: alive tokens verify, and any change breaks them", () => {
  assert(verifyAliveToken(token));
  assert(!verifyAliveToken({ ...token, incarnation: 4 }));
  assert(!verifyAliveToken({ ...token, addrs: ["10.0.0.6:40123"] }));
  assert(!verifyAliveToken({ ...token, id: other }));
});

Deno.test("messages: bad input is a WireError naming the field", () => {
  const bad: Array<[unknown, string]> = [
    [{}, "t"],
    [{ t: 99 }, "unknown message type"],
    [{ t: "1" }, "t"],
    [{ t: 2, n: new Uint8Array(7), tg: other.bytes }, "n"],
    [{ t: 2, n: nonce, tg: new Uint8Array(31) }, "tg"],
    [{ t: 4, n: nonce, tg: other.bytes, a: "10.0.0.1" }, "host:port"],
    [{ t: 4, n: nonce, tg: other.bytes, a: "300.0.0.1:5" }, "host:port"],
    [{ t: 4, n: nonce, tg: other.bytes, a: "10.0.0.1:0" }, "host:port"],
    [{ t: 7, g: [{ k: 3 }] }, "g[0].k"],
    [{ t: 7, g: [{ k: 1, id: other.bytes, i: -1, by: id.bytes }] }, "g[0].i"],
    [{ t: 7, g: Array(33).fill({ k: 2, id: other.bytes, i: 1, by: id.bytes }) }, "at most 32"],
    [{ t: 7, g: [{ k: 0, al: { id: id.bytes, i: 1, a: Array(9).fill("1.2.3.4:5"), s: token.sig } }] }, "at most 8"],
    [{ t: 1, rec: new Uint8Array(10), al: {}, r: true }, "al"],
    [{ t: 5, n: nonce, in: new Uint8Array(1401) }, "in"],
    [[1, 2, 3], "map"],
  ];
  for (const [value, fragment] of bad) {
    assertThrows(() => decodeMessage(encodeCbor(value)), WireError, fragment);
  }
  // an announce whose record signature does not verify
  const forged = encodeCbor({
    t: 1,
    rec: encodeCbor({ id: id.bytes, addrs: [], realms: [], roles: [], seq: 1, exp: 2, sig: new Uint8Array(64) }),
    al: { id: id.bytes, i: 1, a: [], s: token.sig },
    r: false,
  });
  assertThrows(() => decodeMessage(forged), WireError, "signature");
  assertThrows(() => decodeMessage(new Uint8Array([0xff])), WireError);
  assertThrows(() => decodeMessage(new Uint8Array(0)), WireError);
});

for (const sample of SAMPLES) {
  Deno.test(`fuzz cluster ${sample.type}: 10,000 mutations decode or throw WireError`, () => {
    const valid = encodeMessage(sample);
    let rejected = 0;
    for (let i = 0; i < 10_000; i++) {
      try {
        decodeMessage(mutate(valid, i));
      } catch (error) {
        if (!(error instanceof WireError)) {
          throw new Error(`case ${i}: threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
        }
        rejected++;
      }
    }
    assert(rejected > 1000, `suspiciously few rejections (${rejected})`);
  });
}

Deno.test("fuzz cluster envelope: 10,000 mutations of a sealed datagram are dropped with a reason, never thrown otherwise", () => {
  const key = ClusterKey.fromSecret("fuzz-secret");
  const valid = sealEnvelope(signerOf(kp), encodeMessage(SAMPLES[1]), { key });
  const reasons = new Map<string, number>();
  let unchanged = 0;
  for (let i = 0; i < 10_000; i++) {
    const input = mutate(valid, i);
    if (equals(input, valid)) { // some mutations (empty duplication, full-length truncation) change nothing
      unchanged++;
      continue;
    }
    try {
      const opened = openEnvelope(input, { key, guard: new ReplayGuard() });
      decodeMessage(opened.body); // a mutation that keeps the MAC valid cannot exist; this never runs
      throw new Error(`case ${i}: a mutated datagram authenticated`);
    } catch (error) {
      if (!(error instanceof DatagramDropError)) throw error;
      reasons.set(error.reason, (reasons.get(error.reason) ?? 0) + 1);
    }
  }
  assert(unchanged < 2000, `${unchanged} unchanged cases`);
  assert((reasons.get("bad_mac") ?? 0) > 1000 && (reasons.get("malformed") ?? 0) > 1000, JSON.stringify([...reasons]));
});
