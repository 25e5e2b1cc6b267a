import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { loopbackNode, until } from "../helpers/nodes.ts";
import { decodeIdentify, encodeIdentify, IDENTIFY_PROTOCOL } from "../../src/node/identify.ts";
import { ObservedAddresses } from "../../src/node/observed-addresses.ts";
import { createNodeRecord, encodeNodeRecord } from "../../src/identity/node-record.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import type { ObservedAddress } from "../../src/node/observed-addresses.ts";

const kp = KeyPair.generate();
const record = createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default"] });
const session = new Uint8Array(16).fill(7);
const valid = encodeIdentify(record, "tcp", "203.0.113.7:51234", session);

Deno.test("identify: the protocol is version 3; a valid answer decodes with its record, observed address and session", () => {
  assertEquals(IDENTIFY_PROTOCOL, "/macula/identify/3");
  assertEquals(decodeIdentify(valid).session, "07".repeat(16));
  const answer = decodeIdentify(valid);
  assert(answer.record.id.equals(new NodeId(kp.publicKey)));
  assertEquals(answer.record.addrs, ["quic://10.0.0.1:9443"]);
  assertEquals([answer.transport, answer.observed], ["tcp", "203.0.113.7:51234"]);
});

Deno.test("identify: malformed answers are WireErrors", () => {
  const rec = encodeNodeRecord(record);
  const tampered = rec.slice();
  tampered[tampered.length - 1] ^= 1; // breaks the record's signature
  const bads: Array<[string, unknown]> = [
    ["not a map", [rec, "tcp", "1.2.3.4:5"]],
    ["no record", { transport: "tcp", observed: "1.2.3.4:5" }],
    ["record not bytes", { record: "x", transport: "tcp", observed: "1.2.3.4:5", session }],
    ["record too big", { record: new Uint8Array(9000), transport: "tcp", observed: "1.2.3.4:5", session }],
    ["bad signature", { record: tampered, transport: "tcp", observed: "1.2.3.4:5", session }],
    ["no transport", { record: rec, observed: "1.2.3.4:5", session }],
    ["bad transport", { record: rec, transport: "TCP!", observed: "1.2.3.4:5", session }],
    ["long transport", { record: rec, transport: "t".repeat(33), observed: "1.2.3.4:5", session }],
    ["no observed", { record: rec, transport: "tcp" }],
    ["empty observed", { record: rec, transport: "tcp", observed: "", session }],
    ["observed not a string", { record: rec, transport: "tcp", observed: 5, session }],
    ["observed with control characters", { record: rec, transport: "tcp", observed: "1.2.3.4:5\n", session }],
    ["observed too long", { record: rec, transport: "tcp", observed: "a".repeat(257), session }],
    ["no session", { record: rec, transport: "tcp", observed: "1.2.3.4:5" }],
    ["short session", { record: rec, transport: "tcp", observed: "1.2.3.4:5", session: session.slice(1) }],
    ["session not bytes", { record: rec, transport: "tcp", observed: "1.2.3.4:5", session: "x" }],
  ];
  for (const [why, value] of bads) assertThrows(() => decodeIdentify(encodeCbor(value)), WireError, undefined, why);
  assertThrows(() => decodeIdentify(new Uint8Array([0xff])), WireError);
  assertThrows(() => decodeIdentify(new Uint8Array()), WireError);
});

Deno.test("fuzz identify: 10,000 mutations decode or throw WireError", () => {
  const rejected = fuzzDecoder("identify", valid, decodeIdentify, WireError);
  assert(rejected > 1000, `suspiciously few rejections (${rejected})`);
});

Deno.test("observed addresses: bounded, newest first, one entry per address", () => {
  const by = new NodeId(kp.publicKey);
  const o = new ObservedAddresses(3);
  for (
    const [transport, address] of [["tcp", "a:1"], ["quic", "a:1"], ["tcp", "b:2"], ["tcp", "a:1"], ["tcp", "c:3"]]
  ) {
    o.add({ transport, address, by, at: 0 });
  }
  assertEquals(o.texts(), ["tcp://c:3", "tcp://a:1", "tcp://b:2"]);
  assertEquals(o.list().length, 3);
});

Deno.test({
  name: "identify: each node learns the address the other sees it at (status and peer:identify)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await loopbackNode({ transports: ["tcp"] });
    await using b = await loopbackNode({ transports: ["tcp"] });
    const seen: ObservedAddress[] = [];
    a.on("peer:identify", (_record, _conn, observed) => seen.push(observed));
    const conn = await a.connect(b.addrs.find((x) => x.includes("127.0.0.1"))!);
    await until(() => seen.length === 1 && b.status().observedAddrs.length === 1, 3000, "identify both ways");
    // b sees a's outgoing socket; a sees b's listening one
    const bConn = b.connection(a.id)!;
    assertEquals(seen[0].address, bConn.remoteAddress);
    assert(seen[0].by.equals(b.id));
    assertEquals(a.status().observedAddrs, [`tcp://${bConn.remoteAddress}`]);
    assertEquals(b.status().observedAddrs, [`tcp://${conn.remoteAddress}`]);
    assertEquals(a.peerStore.observed.list()[0].transport, "tcp");
  },
});
