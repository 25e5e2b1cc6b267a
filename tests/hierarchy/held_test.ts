/** What a bridge holds: newest record per provider, expiry, and the limits. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { HELD_LIMITS, HeldRecords } from "../../src/hierarchy/held.ts";
import { createProviderRecord } from "../../src/dht/records.ts";
import { createNodeRecord } from "../../src/identity/node-record.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";
import { realmKey } from "../../src/dht/keys.ts";
import { MaculaError } from "../../src/util/errors.ts";

const realm = "default@eu/be";
const record = (kp: KeyPair, ttl = 60_000, name = "x") =>
  createProviderRecord(
    signerOf(kp),
    createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default", realm] }),
    realm,
    realmKey(realm, "rpc", name),
    ttl,
  );

Deno.test("held: one record per provider (the latest), expired ones swept", () => {
  const held = new HeldRecords();
  const kp = KeyPair.generate();
  held.add("rpc", "x", 1, record(kp, 60_000));
  held.add("rpc", "x", 1, record(kp, 120_000));
  assertEquals(held.get("rpc", "x").length, 1);
  held.add("rpc", "y", 1, record(KeyPair.generate(), -1, "y"));
  assertEquals(held.get("rpc", "y").length, 0);
  assertEquals(held.sweep(), [{ kind: "rpc", name: "y", level: 1 }]);
  assertEquals(held.size, 1);
});

Deno.test("held: at most HELD_LIMITS.perEntry providers per key (E_REJECTED past it)", () => {
  const held = new HeldRecords();
  for (let i = 0; i < HELD_LIMITS.perEntry; i++) held.add("rpc", "x", 1, record(KeyPair.generate()));
  const e = assertThrows(() => held.add("rpc", "x", 1, record(KeyPair.generate())), MaculaError);
  assertEquals((e as MaculaError).code, "E_REJECTED");
  assertEquals(held.get("rpc", "x").length, HELD_LIMITS.perEntry);
});
