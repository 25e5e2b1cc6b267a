import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { HandshakeGate, isTimeout, sourceOf } from "../../src/transport/handshake-gate.ts";
import { HandshakeError } from "../../src/transport/errors.ts";
import { TimeoutError } from "../../src/util/async.ts";

Deno.test("handshake gate: sources are IPs; IPv4-mapped IPv6 is IPv4; IPv6 is grouped by /64", () => {
  assertEquals(sourceOf("10.0.0.7:51234"), "10.0.0.7");
  assertEquals(sourceOf("10.0.0.7"), "10.0.0.7");
  assertEquals(sourceOf("[::ffff:10.0.0.7]:9"), "10.0.0.7");
  assertEquals(sourceOf("[2001:db8:1:2:3:4:5:6]:9443"), "2001:db8:1:2::/64");
  assertEquals(sourceOf("[2001:DB8:1:2::9]:1"), "2001:db8:1:2::/64");
  assertEquals(sourceOf("[2001:db8::1]:1"), "2001:db8:0:0::/64");
  assertEquals(sourceOf("[::1]:1"), "0:0:0:0::/64");
});

Deno.test("handshake gate: per-source and global caps; slots come back once, identify moves a slot", () => {
  const gate = new HandshakeGate({ maxPending: 4, maxPendingPerSource: 2 });
  const a1 = gate.enter("192.0.2.1:1000");
  const a2 = gate.enter("192.0.2.1:1001");
  assertEquals(gate.enter("192.0.2.1:1002"), "source-limit");
  assert(typeof a1 !== "string" && typeof a2 !== "string");
  assertEquals(gate.pendingFrom("192.0.2.1:5"), 2);
  const b = gate.enter("192.0.2.2:1");
  const u = gate.enter("unknown");
  assertEquals(gate.enter("192.0.2.3:1"), "global-limit");
  a1.release();
  a1.release(); // twice: counted once
  assertEquals(gate.pending, 3);
  assertEquals(gate.pendingFrom("192.0.2.1:5"), 1);
  assert(typeof u !== "string" && typeof b !== "string");
  const moved = gate.identify(u, "192.0.2.1:7");
  assert(typeof moved !== "string");
  assertEquals(gate.identify(b, "192.0.2.1:8"), "source-limit");
  assertEquals(gate.pending, 2);
  moved.release();
  a2.release();
  assertEquals(gate.pending, 0);
  assertEquals(gate.pendingFrom("192.0.2.1:5"), 0);
  assertThrows(() => new HandshakeGate({ maxPending: 0, maxPendingPerSource: 1 }), RangeError);
});

Deno.test("handshake gate: isTimeout sees a TimeoutError directly or as a cause", () => {
  assert(isTimeout(new TimeoutError("x")));
  assert(isTimeout(new HandshakeError("noise handshake timed out", { cause: new TimeoutError("x") })));
  assert(!isTimeout(new HandshakeError("bad signature")));
  assert(!isTimeout("nope"));
});
