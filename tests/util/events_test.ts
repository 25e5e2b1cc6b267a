import { assert, assertEquals } from "../helpers/assert.ts";
import { Emitter } from "../../src/util/events.ts";
import { sleep } from "../../src/util/async.ts";

type Events = { tick: [number]; pair: [string, boolean]; none: [] };

Deno.test("events: listeners receive the emitted arguments, in registration order", () => {
  const e = new Emitter<Events>();
  const got: string[] = [];
  e.on("tick", (n) => got.push(`a${n}`));
  e.on("tick", (n) => got.push(`b${n}`));
  e.on("pair", (s, f) => got.push(`${s}:${f}`));
  e.on("none", () => got.push("none"));
  e.emit("tick", 1);
  e.emit("pair", "x", true);
  e.emit("none");
  e.emit("tick", 2);
  assertEquals(got, ["a1", "b1", "x:true", "none", "a2", "b2"]);
});

Deno.test("events: emitting an event without listeners is a no-op", () => {
  const e = new Emitter<Events>();
  e.emit("tick", 1);
  const off = e.on("tick", () => {});
  off();
  e.emit("tick", 2);
});

Deno.test("events: the function returned by on() removes that listener only", () => {
  const e = new Emitter<Events>();
  const got: string[] = [];
  const offA = e.on("tick", () => got.push("a"));
  e.on("tick", () => got.push("b"));
  offA();
  offA(); // idempotent
  e.emit("tick", 0);
  assertEquals(got, ["b"]);
});

Deno.test("events: off() removes a listener; unknown listeners and events are ignored", () => {
  const e = new Emitter<Events>();
  const got: number[] = [];
  const l = (n: number) => got.push(n);
  e.on("tick", l);
  e.off("tick", () => {});
  e.off("pair", () => {});
  e.emit("tick", 1);
  e.off("tick", l);
  e.emit("tick", 2);
  assertEquals(got, [1]);
});

Deno.test("events: the same listener added twice is called once", () => {
  const e = new Emitter<Events>();
  let calls = 0;
  const l = () => calls++;
  e.on("tick", l);
  e.on("tick", l);
  e.emit("tick", 1);
  assertEquals(calls, 1);
});

Deno.test("events: listeners added or removed during emit do not affect the current emit", () => {
  const e = new Emitter<Events>();
  const got: string[] = [];
  const late = () => got.push("late");
  let offB: () => void = () => {};
  e.on("tick", () => {
    got.push("a");
    offB();
    e.on("tick", late);
  });
  offB = e.on("tick", () => got.push("b"));
  e.emit("tick", 1);
  assertEquals(got, ["a", "b"], "b was removed and late added during this emit");
  got.length = 0;
  e.emit("tick", 2);
  assertEquals(got, ["a", "late"]);
});

Deno.test("events: a throwing listener does not stop the others; its error is rethrown asynchronously", async () => {
  const e = new Emitter<Events>();
  const got: string[] = [];
  const boom = new Error("listener failed");
  const uncaught: unknown[] = [];
  const onError = (ev: ErrorEvent) => {
    ev.preventDefault();
    uncaught.push(ev.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    e.on("tick", () => got.push("first"));
    e.on("tick", () => {
      throw boom;
    });
    e.on("tick", () => got.push("third"));
    e.emit("tick", 1); // must not throw synchronously
    assertEquals(got, ["first", "third"]);
    assertEquals(uncaught, [], "the error is not reported synchronously");
    await sleep(0);
    assertEquals(uncaught.length, 1);
    assert(uncaught[0] === boom);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});
