/**
 * Import-cycle check: builds the module graph of `mod.ts` and `main.ts`
 * with `deno info --json`, keeps the modules under `src/` (code and type
 * imports alike), and prints every strongly connected component of more
 * than one module (or a module importing itself). Exits 1 if there is any.
 *
 * Run: `deno task check:cycles`.
 *
 * @module
 */

/** A directed graph: each node's list of successors. */
export type Graph = Map<string, readonly string[]>;

/**
 * The strongly connected components of `graph` (Tarjan's algorithm, without
 * recursion), each sorted, in an order fixed by the input. Successors that
 * are not keys of `graph` are ignored.
 *
 * @example
 * ```ts
 * import { stronglyConnectedComponents } from "./check-cycles.ts";
 * const graph = new Map([["a", ["b"]], ["b", ["a"]], ["c", ["a"]]]);
 * stronglyConnectedComponents(graph); // [["a", "b"], ["c"]]
 * ```
 */
export function stronglyConnectedComponents(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    // Each frame: a node and the position of the next successor to visit.
    const frames: [string, number][] = [[root, 0]];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const [node, next] = frame;
      const successors = (graph.get(node) ?? []).filter((s) => graph.has(s));
      if (next < successors.length) {
        frame[1]++;
        const successor = successors[next];
        if (!index.has(successor)) {
          index.set(successor, counter);
          low.set(successor, counter++);
          stack.push(successor);
          onStack.add(successor);
          frames.push([successor, 0]);
        } else if (onStack.has(successor)) {
          low.set(node, Math.min(low.get(node)!, index.get(successor)!));
        }
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1][0];
        low.set(parent, Math.min(low.get(parent)!, low.get(node)!));
      }
      if (low.get(node) === index.get(node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** The components that are cycles: more than one module, or one that imports itself. */
export function cycles(graph: Graph): string[][] {
  return stronglyConnectedComponents(graph).filter((c) => c.length > 1 || (graph.get(c[0]) ?? []).includes(c[0]));
}

interface DenoInfo {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
}

/** The import graph among `src/` modules of `entries` (paths relative to `root`). */
export async function srcGraph(root: URL, entries: string[]): Promise<Map<string, string[]>> {
  const src = new URL("src/", root).href;
  const graph = new Map<string, string[]>();
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`deno info ${entry} failed:\n${new TextDecoder().decode(out.stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as DenoInfo;
    for (const module of info.modules) {
      if (!module.specifier.startsWith(src)) continue;
      const name = module.specifier.slice(src.length - 4);
      const targets = new Set(graph.get(name) ?? []);
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          if (target?.startsWith(src)) targets.add(target.slice(src.length - 4));
        }
      }
      graph.set(name, [...targets].sort());
    }
  }
  return graph;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const found = cycles(await srcGraph(root, ["mod.ts", "main.ts"]));
  for (const cycle of found) console.log(`import cycle of ${cycle.length} module(s):\n  ${cycle.join("\n  ")}`);
  console.log(found.length === 0 ? "no import cycles among src/ modules" : `${found.length} import cycle(s)`);
  Deno.exit(found.length === 0 ? 0 : 1);
}
