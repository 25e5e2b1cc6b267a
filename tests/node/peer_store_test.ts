import { assert, assertEquals } from "../helpers/assert.ts";
import { PeerStore } from "../../src/node/peer-store.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { createNodeRecord } from "../../src/identity/node-record.ts";
import { formatAddress, parseAddress, type PeerAddress } from "../../src/transport/address.ts";

function newId(): NodeId {
  return new NodeId(KeyPair.generate().publicKey);
}

const text = (addrs: PeerAddress[]) =>
  addrs.map((a) => formatAddress(a.type === "direct" ? { ...a, id: undefined } : a));

/** Run `fn` with `Date.now()` driven by the returned clock. */
function withClock<T>(fn: (clock: { now: number }) => T): T {
  const clock = { now: 1_000_000 };
  const real = Date.now;
  Date.now = () => clock.now;
  try {
    return fn(clock);
  } finally {
    Date.now = real;
  }
}

Deno.test("peer store: unknown peers have no entry and no addresses", () => {
  const store = new PeerStore();
  const id = newId();
  assertEquals(store.get(id), undefined);
  assertEquals(store.addresses(id), []);
  assertEquals(store.size, 0);
  assertEquals(store.all(), []);
});

Deno.test("peer store: addAddresses stamps the peer id on each address and dedups by kind/host/port", () => {
  const store = new PeerStore();
  const id = newId();
  const other = newId();
  store.addAddresses(id, [
    parseAddress("tcp://10.0.0.1:9443"),
    parseAddress(`tcp://10.0.0.1:9443/${other.did}`), // same socket, different (wrong) id: still one entry
    parseAddress("tcp://10.0.0.1:9444"),
  ]);
  store.addAddresses(id, [parseAddress("tcp://10.0.0.1:9444")]);
  const addrs = store.addresses(id);
  assertEquals(addrs.length, 2);
  for (const a of addrs) assert(a.id?.equals(id), "address does not carry the peer's id");
  assertEquals(new Set(text(addrs)), new Set(["tcp://10.0.0.1:9443", "tcp://10.0.0.1:9444"]));
  // the same host+port on another transport is a different address
  store.addAddresses(id, [parseAddress("quic://10.0.0.1:9443")]);
  assertEquals(store.addresses(id).length, 3);
  assertEquals(store.size, 1);
});

Deno.test("peer store: addresses are newest first within a transport, QUIC before TCP before memory", () => {
  const store = new PeerStore();
  const id = newId();
  store.addAddresses(id, [parseAddress("tcp://10.0.0.1:1"), parseAddress("memory://m1")]);
  store.addAddresses(id, [parseAddress("quic://10.0.0.1:1"), parseAddress("tcp://10.0.0.2:2")]);
  store.addAddresses(id, [parseAddress("quic://10.0.0.3:3")]);
  assertEquals(text(store.addresses(id)), [
    "quic://10.0.0.3:3",
    "quic://10.0.0.1:1",
    "tcp://10.0.0.2:2",
    "tcp://10.0.0.1:1",
    "memory://m1",
  ]);
  // re-adding an existing address moves it to the front of its group
  store.addAddresses(id, [parseAddress("tcp://10.0.0.1:1")]);
  assertEquals(text(store.addresses(id)).slice(2, 4), ["tcp://10.0.0.1:1", "tcp://10.0.0.2:2"]);
  // addresses() returns a copy: mutating it does not change the store
  store.addresses(id).length = 0;
  assertEquals(store.addresses(id).length, 5);
});

Deno.test("peer store: at most 32 addresses are kept per peer, the newest", () => {
  const store = new PeerStore();
  const id = newId();
  for (let i = 1; i <= 40; i++) store.addAddresses(id, [parseAddress(`tcp://10.0.0.1:${i}`)]);
  const ports = store.addresses(id).map((a) => a.type === "direct" ? a.port : -1);
  assertEquals(ports.length, 32);
  assertEquals(ports[0], 40);
  assertEquals(ports[31], 9);
});

Deno.test("peer store: upsertRecord stores a record and adds its addresses with the record's id", () => {
  const store = new PeerStore();
  const kp = KeyPair.generate();
  const rec = createNodeRecord(kp, {
    addrs: ["tcp://10.0.0.1:9443", "quic://10.0.0.1:9443"],
    realms: ["default"],
    seq: 5,
  });
  assert(store.upsertRecord(rec));
  const entry = store.get(rec.id)!;
  assert(entry.record === rec);
  assertEquals(text(store.addresses(rec.id)), ["quic://10.0.0.1:9443", "tcp://10.0.0.1:9443"]);
  for (const a of store.addresses(rec.id)) assert(a.id?.equals(rec.id));
});

Deno.test("peer store: upsertRecord only replaces with a higher seq", () => {
  const store = new PeerStore();
  const kp = KeyPair.generate();
  const r5 = createNodeRecord(kp, { addrs: ["tcp://10.0.0.1:1"], realms: ["default"], seq: 5 });
  const r5b = createNodeRecord(kp, { addrs: ["tcp://10.0.0.9:9"], realms: ["other"], seq: 5 });
  const r4 = createNodeRecord(kp, { addrs: ["tcp://10.0.0.4:4"], realms: ["default"], seq: 4 });
  const r6 = createNodeRecord(kp, { addrs: ["quic://10.0.0.6:6"], realms: ["default"], seq: 6 });
  assert(store.upsertRecord(r5));
  assertEquals(store.upsertRecord(r5b), false, "equal seq must not replace");
  assertEquals(store.upsertRecord(r4), false, "lower seq must not replace");
  assert(store.get(r5.id)!.record === r5);
  assertEquals(text(store.addresses(r5.id)), ["tcp://10.0.0.1:1"], "a rejected record must not add addresses");
  assert(store.upsertRecord(r6));
  assert(store.get(r5.id)!.record === r6);
  assert(text(store.addresses(r5.id)).includes("quic://10.0.0.6:6"));
  assertEquals(text(store.addresses(r5.id))[0], "quic://10.0.0.6:6");
});

Deno.test("peer store: unparsable addresses in a record are skipped, the rest kept", () => {
  const store = new PeerStore();
  const kp = KeyPair.generate();
  const rec = createNodeRecord(kp, {
    addrs: [
      "garbage",
      "UDP://1.2.3.4:5",
      "tcp://1.2.3.4:0",
      "tcp://10.0.0.1:7",
      "quic://[fd00::1]:8",
      "udp://1.2.3.4:5",
    ],
    realms: ["default"],
    seq: 1,
  });
  assert(store.upsertRecord(rec));
  // an address of a transport this node lacks is still an address (kept, ranked after QUIC and TCP)
  assertEquals(text(store.addresses(rec.id)), ["quic://[fd00::1]:8", "tcp://10.0.0.1:7", "udp://1.2.3.4:5"]);
});

Deno.test("peer store: upsertRecord refreshes lastSeen", () => {
  withClock((clock) => {
    const store = new PeerStore();
    const kp = KeyPair.generate();
    const id = new NodeId(kp.publicKey);
    store.touch(id);
    assertEquals(store.get(id)!.lastSeen, 1_000_000);
    clock.now += 500;
    assert(store.upsertRecord(createNodeRecord(kp, { addrs: [], realms: ["default"], seq: 1 })));
    assertEquals(store.get(id)!.lastSeen, 1_000_500);
  });
});

Deno.test("peer store: setRtt records latency and refreshes lastSeen; touch refreshes lastSeen", () => {
  withClock((clock) => {
    const store = new PeerStore();
    const id = newId();
    store.setRtt(id, 12.5);
    let e = store.get(id)!;
    assertEquals(e.rtt, 12.5);
    assertEquals(e.lastSeen, 1_000_000);
    clock.now = 2_000_000;
    store.setRtt(id, 3);
    e = store.get(id)!;
    assertEquals(e.rtt, 3);
    assertEquals(e.lastSeen, 2_000_000);
    clock.now = 3_000_000;
    store.touch(id);
    assertEquals(store.get(id)!.lastSeen, 3_000_000);
    assertEquals(store.get(id)!.rtt, 3, "touch keeps the rtt");
    assertEquals(store.size, 1);
  });
});

Deno.test("peer store: over maxPeers the least recently seen peer is evicted", () => {
  withClock((clock) => {
    const store = new PeerStore({ maxPeers: 3 });
    const [a, b, c, d] = [newId(), newId(), newId(), newId()];
    store.touch(a);
    clock.now += 10;
    store.touch(b);
    clock.now += 10;
    store.touch(c);
    clock.now += 10;
    store.touch(a); // a is now the most recent; b the oldest
    clock.now += 10;
    store.addAddresses(d, [parseAddress("tcp://10.0.0.4:4")]);
    assertEquals(store.size, 3);
    assertEquals(store.get(b), undefined, "the least recently seen peer should be evicted");
    assert(store.get(a) && store.get(c) && store.get(d));
    assertEquals(store.addresses(d).length, 1);
  });
});

Deno.test("peer store: pinned peers are never evicted, even when they are the oldest", () => {
  withClock((clock) => {
    const pinned = newId();
    const store = new PeerStore({ maxPeers: 2, isPinned: (id) => id.equals(pinned) });
    store.touch(pinned);
    const others: NodeId[] = [];
    for (let i = 0; i < 5; i++) {
      clock.now += 10;
      const id = newId();
      others.push(id);
      store.touch(id);
      assertEquals(store.size, 2);
      assert(store.get(pinned), `pinned peer evicted at step ${i}`);
      assert(store.get(id), `newest peer evicted at step ${i}`);
    }
    assertEquals(store.all().map((e) => e.id.hex).sort(), [pinned.hex, others[4].hex].sort());
  });
});

Deno.test("peer store: delete forgets a peer", () => {
  const store = new PeerStore();
  const id = newId();
  store.addAddresses(id, [parseAddress("tcp://10.0.0.1:1")]);
  assertEquals(store.size, 1);
  store.delete(id);
  assertEquals(store.size, 0);
  assertEquals(store.get(id), undefined);
  assertEquals(store.addresses(id), []);
  store.delete(id); // idempotent
  assertEquals(store.size, 0);
});

Deno.test("peer store: entries are keyed by key bytes, not by NodeId object identity", () => {
  const store = new PeerStore();
  const id = newId();
  store.setRtt(id, 1);
  const same = NodeId.fromDid(id.did);
  assertEquals(store.get(same)?.rtt, 1);
  store.touch(same);
  assertEquals(store.size, 1);
});
