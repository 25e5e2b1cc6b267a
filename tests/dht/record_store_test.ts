/**
 * The DHT record store: limits per key, per peer and overall, expiry and
 * sweep, the rules for replacing a held record, and stats.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { realmKey } from "../../src/dht/keys.ts";
import { RecordStore } from "../../src/dht/record-store.ts";
import {
  createProviderRecord,
  createValueRecord,
  type ProviderRecord,
  valueKey,
  type ValueRecord,
} from "../../src/dht/records.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";
import { createNodeRecord, type NodeRecord } from "../../src/identity/node-record.ts";

interface Peer {
  kp: KeyPair;
  record: NodeRecord;
}

function peer(seq = 1): Peer {
  const kp = KeyPair.generate();
  return { kp, record: createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default"], seq }) };
}

function withSeq(p: Peer, seq: number): Peer {
  return { kp: p.kp, record: createNodeRecord(p.kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default"], seq }) };
}

const key = (name: string) => realmKey("default", "rpc", name);

/** A provider record with an exact expiry. */
function provider(p: Peer, k: Uint8Array, expires: number, data?: unknown): ProviderRecord {
  const rec = createProviderRecord(signerOf(p.kp), p.record, "default", k, 60_000, data);
  return { ...rec, expires };
}

function value(p: Peer, name: string, seq: number, expires: number): ValueRecord {
  return { ...createValueRecord(signerOf(p.kp), "default", name, new Uint8Array([seq & 0xff]), seq, 60_000), expires };
}

const NOW = 1_000_000;

Deno.test("providers: store, read back, one entry per peer per key", () => {
  const store = new RecordStore();
  const [a, b] = [peer(), peer()];
  assertEquals(store.addProvider(provider(a, key("x"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(b, key("x"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(a, key("y"), NOW + 100), NOW), null);
  const xs = store.providers(key("x"), NOW);
  assertEquals(xs.length, 2);
  assertEquals(new Set(xs.map((r) => r.provider.id.hex)), new Set([a.record.id.hex, b.record.id.hex]));
  assertEquals(store.providers(key("y"), NOW).length, 1);
  assertEquals(store.providers(key("z"), NOW), []);
  // Same peer, same key again: replaced, not duplicated.
  assertEquals(store.addProvider(provider(a, key("x"), NOW + 200), NOW), null);
  assertEquals(store.providers(key("x"), NOW).length, 2);
  assertEquals(store.stats(), { providerKeys: 2, providers: 3, values: 0 });
});

Deno.test("providers: expired records are refused and hidden; sweep drops them", () => {
  const store = new RecordStore();
  const [a, b] = [peer(), peer()];
  assertEquals(store.addProvider(provider(a, key("x"), NOW), NOW), "expired", "expires == now is expired");
  assertEquals(store.addProvider(provider(a, key("x"), NOW - 1), NOW), "expired");
  assertEquals(store.addProvider(provider(a, key("x"), NOW + 10), NOW), null);
  assertEquals(store.addProvider(provider(b, key("x"), NOW + 20), NOW), null);
  assertEquals(store.providers(key("x"), NOW + 9).length, 2);
  assertEquals(store.providers(key("x"), NOW + 10).map((r) => r.provider.id.hex), [b.record.id.hex]);
  assertEquals(store.providers(key("x"), NOW + 20), []);
  assertEquals(store.stats().providers, 2, "not swept yet");
  store.sweep(NOW + 10);
  assertEquals(store.stats(), { providerKeys: 1, providers: 1, values: 0 });
  store.sweep(NOW + 20);
  assertEquals(store.stats(), { providerKeys: 0, providers: 0, values: 0 }, "empty keys are dropped");
});

Deno.test("providers: a newer expiry or a newer node-record seq replaces; otherwise stale", () => {
  const store = new RecordStore();
  const a = peer(10);
  const k = key("x");
  assertEquals(store.addProvider(provider(a, k, NOW + 100, "v1"), NOW), null);
  // Older expiry, same seq: stale.
  assertEquals(store.addProvider(provider(a, k, NOW + 50, "old"), NOW), "stale");
  assertEquals(store.providers(k, NOW)[0].data, "v1");
  // Older expiry, older seq: stale.
  assertEquals(store.addProvider(provider(withSeq(a, 9), k, NOW + 50, "older"), NOW), "stale");
  // Newer expiry: replaces.
  assertEquals(store.addProvider(provider(a, k, NOW + 200, "v2"), NOW), null);
  assertEquals(store.providers(k, NOW)[0].data, "v2");
  // Same expiry, same seq (a retransmission): accepted, harmless.
  assertEquals(store.addProvider(provider(a, k, NOW + 200, "v2"), NOW), null);
  // Older expiry but a newer node record (new addresses): replaces.
  assertEquals(store.addProvider(provider(withSeq(a, 11), k, NOW + 150, "v3"), NOW), null);
  const held = store.providers(k, NOW);
  assertEquals(held.length, 1);
  assertEquals(held[0].data, "v3");
  assertEquals(held[0].provider.seq, 11);
  assertEquals(store.stats(), { providerKeys: 1, providers: 1, values: 0 });
});

Deno.test("providers: per-key limit", () => {
  const store = new RecordStore({ providersPerKey: 3 });
  const peers = Array.from({ length: 4 }, () => peer());
  for (const p of peers.slice(0, 3)) assertEquals(store.addProvider(provider(p, key("x"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(peers[3], key("x"), NOW + 100), NOW), "key-full");
  assertEquals(store.providers(key("x"), NOW).length, 3);
  // Other keys are unaffected, and a held provider may still refresh.
  assertEquals(store.addProvider(provider(peers[3], key("y"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(peers[0], key("x"), NOW + 500), NOW), null);
  // After a sweep frees a slot, the newcomer gets in.
  store.addProvider(provider(peers[1], key("x"), NOW + 100), NOW);
  store.sweep(NOW + 100);
  assertEquals(store.providers(key("x"), NOW + 100).length, 1);
  assertEquals(store.addProvider(provider(peers[3], key("x"), NOW + 300), NOW + 100), null);
});

Deno.test("per-peer limit covers providers and values together; sweeping frees the quota", () => {
  const store = new RecordStore({ recordsPerPeer: 3 });
  const a = peer();
  const b = peer();
  assertEquals(store.addProvider(provider(a, key("1"), NOW + 10), NOW), null);
  assertEquals(store.addProvider(provider(a, key("2"), NOW + 100), NOW), null);
  assertEquals(store.putValue(value(a, "v1", 1, NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(a, key("3"), NOW + 100), NOW), "peer-full");
  assertEquals(store.putValue(value(a, "v2", 1, NOW + 100), NOW), "peer-full");
  // Replacing what the peer already holds is fine.
  assertEquals(store.addProvider(provider(a, key("2"), NOW + 200), NOW), null);
  assertEquals(store.putValue(value(a, "v1", 2, NOW + 200), NOW), null);
  // Other peers are unaffected.
  assertEquals(store.addProvider(provider(b, key("3"), NOW + 100), NOW), null);
  assertEquals(store.putValue(value(b, "v2", 1, NOW + 100), NOW), null);
  // key("1") of a expires; after the sweep, a has room for one more.
  store.sweep(NOW + 10);
  assertEquals(store.addProvider(provider(a, key("3"), NOW + 100), NOW + 10), null);
  assertEquals(store.putValue(value(a, "v3", 1, NOW + 100), NOW + 10), "peer-full");
});

Deno.test("overall limits: provider keys and values", () => {
  const store = new RecordStore({ providerKeys: 2, values: 2 });
  const [a, b, c] = [peer(), peer(), peer()];
  assertEquals(store.addProvider(provider(a, key("1"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(a, key("2"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(b, key("3"), NOW + 100), NOW), "store-full");
  assertEquals(store.addProvider(provider(b, key("2"), NOW + 100), NOW), null, "existing keys take more providers");
  assertEquals(store.stats(), { providerKeys: 2, providers: 3, values: 0 });

  assertEquals(store.putValue(value(a, "x", 1, NOW + 100), NOW), null);
  assertEquals(store.putValue(value(b, "x", 1, NOW + 100), NOW), null);
  assertEquals(store.putValue(value(c, "x", 1, NOW + 100), NOW), "store-full");
  assertEquals(store.putValue(value(a, "x", 2, NOW + 100), NOW), null, "updates of held values still work");
  assertEquals(store.stats(), { providerKeys: 2, providers: 3, values: 2 });
  store.sweep(NOW + 100);
  assertEquals(store.stats(), { providerKeys: 0, providers: 0, values: 0 });
  assertEquals(store.putValue(value(c, "x", 1, NOW + 200), NOW + 100), null);
});

Deno.test("refused records do not consume the per-peer quota", () => {
  const store = new RecordStore({ recordsPerPeer: 1, values: 1, providerKeys: 1 });
  const [a, b] = [peer(), peer()];
  assertEquals(store.putValue(value(a, "x", 1, NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(a, key("1"), NOW + 100), NOW), "peer-full");
  assertEquals(store.putValue(value(b, "x", 1, NOW + 100), NOW), "store-full");
  assertEquals(store.putValue(value(b, "x", 0, NOW), NOW), "expired");
  // b holds nothing, so its one record slot is still free.
  assertEquals(store.addProvider(provider(b, key("1"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(b, key("2"), NOW + 100), NOW), "peer-full");
  assertEquals(store.stats(), { providerKeys: 1, providers: 1, values: 1 });
});

Deno.test("values: stored under valueKey, higher seq only, expiry and sweep", () => {
  const store = new RecordStore();
  const a = peer();
  const k = valueKey("default", a.record.id, "profile");
  assertEquals(store.putValue(value(a, "profile", 5, NOW), NOW), "expired");
  assertEquals(store.putValue(value(a, "profile", 5, NOW + 100), NOW), null);
  assertEquals(store.value(k, NOW)?.seq, 5);
  assertEquals(store.value(valueKey("default", a.record.id, "other"), NOW), undefined);
  assertEquals(store.putValue(value(a, "profile", 5, NOW + 500), NOW), "stale", "equal seq is stale");
  assertEquals(store.putValue(value(a, "profile", 4, NOW + 500), NOW), "stale", "lower seq is stale");
  assertEquals(store.value(k, NOW)?.expires, NOW + 100);
  assertEquals(
    store.putValue(value(a, "profile", 6, NOW + 50), NOW),
    null,
    "higher seq replaces, even expiring sooner",
  );
  assertEquals(store.value(k, NOW)?.seq, 6);
  assertEquals(store.value(k, NOW + 49)?.seq, 6);
  assertEquals(store.value(k, NOW + 50), undefined, "expired values are hidden");
  assertEquals(store.stats().values, 1);
  store.sweep(NOW + 50);
  assertEquals(store.stats().values, 0);
  assertEquals(store.value(k, NOW), undefined);
});

Deno.test("stats count keys, providers and values; default limits are generous", () => {
  const store = new RecordStore();
  assertEquals(store.stats(), { providerKeys: 0, providers: 0, values: 0 });
  const a = peer();
  for (let i = 0; i < 256; i++) assertEquals(store.addProvider(provider(a, key(`k${i}`), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(a, key("k256"), NOW + 100), NOW), "peer-full", "default 256 per peer");
  const peers = Array.from({ length: 64 }, () => peer());
  for (const p of peers) assertEquals(store.addProvider(provider(p, key("shared"), NOW + 100), NOW), null);
  assertEquals(store.addProvider(provider(peer(), key("shared"), NOW + 100), NOW), "key-full", "default 64 per key");
  assertEquals(store.stats(), { providerKeys: 257, providers: 256 + 64, values: 0 });
  assert(store.providers(key("k0"), NOW).length === 1);
});
