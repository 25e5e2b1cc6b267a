import { assertEquals } from "../helpers/assert.ts";
import { Queue } from "../../src/util/queue.ts";

Deno.test("queue: FIFO order, peek, at and length", () => {
  const q = new Queue<number>();
  assertEquals(q.length, 0);
  assertEquals(q.shift(), undefined);
  assertEquals(q.peek(), undefined);
  for (let i = 0; i < 5; i++) q.push(i);
  assertEquals(q.length, 5);
  assertEquals(q.peek(), 0);
  assertEquals(q.at(4), 4);
  assertEquals(q.at(5), undefined);
  assertEquals(q.at(-1), undefined);
  assertEquals([...q], [0, 1, 2, 3, 4]);
  assertEquals(q.shift(), 0);
  assertEquals(q.shift(), 1);
  assertEquals(q.length, 3);
  assertEquals([...q], [2, 3, 4]);
});

Deno.test("queue: unshift puts items back at the front, across the wrap-around", () => {
  const q = new Queue<string>();
  q.unshift("b"); // head wraps below index 0 of an empty ring
  q.unshift("a");
  q.push("c");
  assertEquals([...q], ["a", "b", "c"]);
  assertEquals(q.shift(), "a");
  q.unshift("z");
  assertEquals([...q], ["z", "b", "c"]);
});

Deno.test("queue: grows past its capacity while wrapped and keeps the order", () => {
  const q = new Queue<number>(4);
  const model: number[] = [];
  // Advance the head so that the ring is wrapped when it has to grow.
  for (let i = 0; i < 10; i++) {
    q.push(i);
    model.push(i);
  }
  for (let i = 0; i < 7; i++) assertEquals(q.shift(), model.shift());
  for (let i = 10; i < 100; i++) {
    q.push(i);
    model.push(i);
  }
  assertEquals(q.length, model.length);
  assertEquals([...q], model);
});

Deno.test("queue: behaves like an array under a random mix of operations", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const q = new Queue<number>();
  const model: number[] = [];
  for (let step = 0; step < 20_000; step++) {
    const r = rand();
    if (r < 0.45) {
      q.push(step);
      model.push(step);
    } else if (r < 0.55) {
      q.unshift(step);
      model.unshift(step);
    } else if (r < 0.99) {
      assertEquals(q.shift(), model.shift());
    } else {
      q.clear();
      model.length = 0;
    }
    assertEquals(q.length, model.length);
    assertEquals(q.peek(), model[0]);
    const i = Math.floor(rand() * (model.length + 1));
    assertEquals(q.at(i), model[i]);
  }
  assertEquals([...q], model);
});

Deno.test("queue: clear empties it and it can be used again", () => {
  const q = new Queue<number>();
  for (let i = 0; i < 40; i++) q.push(i);
  q.clear();
  assertEquals(q.length, 0);
  assertEquals(q.shift(), undefined);
  q.push(7);
  q.unshift(6);
  assertEquals([...q], [6, 7]);
});
