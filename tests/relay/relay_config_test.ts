/** The relay settings of `macula start`: environment and flags, and their errors. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ConfigError, resolveStartConfig } from "../../src/cli/config.ts";

const R = "quic://203.0.113.7:9443/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
const R2 = "tcp://198.51.100.9:9443/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";

Deno.test("relay config: environment", () => {
  const cfg = resolveStartConfig({
    MACULA_RELAY: "1",
    MACULA_RELAYS: `${R},${R2}`,
    MACULA_RELAY_REALMS: "*",
    MACULA_RELAY_PEERS: R2,
  }, {});
  assertEquals(cfg.relay, { serve: true, via: [R, R2], realms: "*", peers: [R2], limits: {} });
  assertEquals(resolveStartConfig({ MACULA_RELAY: "0", MACULA_RELAY_REALMS: "a, b.c" }, {}).relay, {
    serve: false,
    via: [],
    realms: ["a", "b.c"],
    peers: [],
    limits: {},
  });
});

Deno.test("relay config: flags override the environment", () => {
  const cfg = resolveStartConfig({ MACULA_RELAYS: R, MACULA_RELAY_REALMS: "*" }, {
    relay: true,
    "relay-via": [R2],
    "relay-realms": "home",
    "relay-peer": [R, R2],
  });
  assertEquals(cfg.relay, { serve: true, via: [R2], realms: ["home"], peers: [R, R2], limits: {} });
});

Deno.test("relay config: limits from the environment and flags", () => {
  const cfg = resolveStartConfig({ MACULA_RELAY_LIMITS: "maxReservations=64, circuitRate=0" }, {
    "relay-limit": ["circuitRate=262144", "reservationTtl=60000"],
  });
  assertEquals(cfg.relay.limits, { maxReservations: 64, circuitRate: 262144, reservationTtl: 60000 });
  assertThrows(() => resolveStartConfig({}, { "relay-limit": ["speed=1"] }), ConfigError, "--relay-limit");
  assertThrows(
    () => resolveStartConfig({ MACULA_RELAY_LIMITS: "maxCircuits=-1" }, {}),
    ConfigError,
    "MACULA_RELAY_LIMITS",
  );
  assertThrows(() => resolveStartConfig({}, { "relay-limit": ["reservationTtl=5"] }), ConfigError, "at least");
});

Deno.test("relay config: bad values are ConfigErrors naming the source", () => {
  assertThrows(() => resolveStartConfig({ MACULA_RELAY: "maybe" }, {}), ConfigError, "MACULA_RELAY");
  assertThrows(() => resolveStartConfig({ MACULA_RELAYS: "quic://1.2.3.4:9443" }, {}), ConfigError, "MACULA_RELAYS");
  assertThrows(
    () =>
      resolveStartConfig({}, {
        "relay-via": [`${R}/circuit/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp`],
      }),
    ConfigError,
    "not a relayed one",
  );
  assertThrows(() => resolveStartConfig({}, { "relay-realms": "bad realm!" }), ConfigError, "--relay-realms");
  assertThrows(() => resolveStartConfig({}, { "relay-peer": ["nonsense"] }), ConfigError, "--relay-peer");
});

Deno.test("relay config: --seed accepts a relayed address", () => {
  const relayed = `${R}/circuit/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp`;
  assertEquals(resolveStartConfig({}, { seed: [relayed] }).seeds, [relayed]);
});
