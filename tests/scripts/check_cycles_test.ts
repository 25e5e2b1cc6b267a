import { assertEquals } from "../helpers/assert.ts";
import { cycles, stronglyConnectedComponents } from "../../scripts/check-cycles.ts";

const sorted = (components: string[][]) => components.map((c) => c.join(",")).sort();

Deno.test("check-cycles: SCCs of a small graph (two cycles, a self-loop, a chain, a dangling edge)", () => {
  const graph = new Map<string, string[]>([
    ["a", ["b"]],
    ["b", ["c", "x"]], // x is not a node: ignored
    ["c", ["a", "d"]],
    ["d", ["e"]],
    ["e", ["d", "f"]],
    ["f", []],
    ["g", ["g", "a"]],
  ]);
  assertEquals(sorted(stronglyConnectedComponents(graph)), ["a,b,c", "d,e", "f", "g"]);
  assertEquals(sorted(cycles(graph)), ["a,b,c", "d,e", "g"]);
});

Deno.test("check-cycles: an acyclic graph has no cycles, whatever the order of its nodes", () => {
  const graph = new Map<string, string[]>([["c", []], ["a", ["b", "c"]], ["b", ["c"]]]);
  assertEquals(sorted(stronglyConnectedComponents(graph)), ["a", "b", "c"]);
  assertEquals(cycles(graph), []);
});

Deno.test("check-cycles: a long chain closing on itself is one component (no recursion limit)", () => {
  const n = 20_000;
  const graph = new Map<string, string[]>();
  for (let i = 0; i < n; i++) graph.set(`m${i}`, [`m${(i + 1) % n}`]);
  const found = cycles(graph);
  assertEquals(found.length, 1);
  assertEquals(found[0].length, n);
});
