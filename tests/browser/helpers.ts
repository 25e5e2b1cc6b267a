/**
 * Test helpers of the browser library: real CLI nodes (processes) and
 * Chromium pages that loaded `/macula.js` from one of them, each page in its
 * own browser context (its own IndexedDB). Reusable by other browser tests
 * (rings): `startNodes`, `openPeerPage`, `inPage`.
 */
import type { BrowserNode } from "../../src/browser/peer.ts";
import type * as Macula from "../../src/browser/entry.ts";
import { type NodeProcess, scratchDir, startNode } from "../helpers/cli.ts";
import { type Browser, chromiumMissing, openBrowser, type Page } from "../helpers/console_browser.ts";

export { chromiumMissing, openBrowser };
export type { Browser, Macula, NodeProcess, Page };

/** The `did:key` a CLI node logged at start (`--log-format json`). */
export function didOf(p: NodeProcess): string {
  for (const line of p.lines) {
    try {
      const entry = JSON.parse(line);
      if (entry.msg === "node started") return String(entry.id);
    } catch {
      // not a JSON line
    }
  }
  throw new Error("no 'node started' line");
}

/** A node's first TCP address (`tcp://127.0.0.1:port/did:key:…`), to seed another with. */
export async function tcpAddressOf(p: NodeProcess): Promise<string> {
  const status = await p.get("/status") as { addrs: string[] };
  const addr = status.addrs.find((a) => a.startsWith("tcp://"));
  if (!addr) throw new Error(`no tcp address in ${JSON.stringify(status.addrs)}`);
  return addr;
}

/** Nodes started for a test, and their scratch directory. */
export interface TestNodes {
  nodes: NodeProcess[];
  /** Each node's `did:key`. */
  ids: string[];
  /** Each node's status server, `http://127.0.0.1:port` (serves `/macula.js`). */
  bases: string[];
  /** Stop every node (SIGTERM) and remove the directory. */
  stop(): Promise<void>;
}

/**
 * Start `count` CLI nodes on loopback in a chain: node i seeds to node i-1
 * (so node 0 and node 2 are two hops apart). `extra(i)` adds flags.
 */
export async function startNodes(count: number, extra: (i: number) => string[] = () => []): Promise<TestNodes> {
  const dir = await scratchDir();
  const nodes: NodeProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop("SIGTERM").catch(() => 0)));
    await dir.cleanup();
  };
  try {
    for (let i = 0; i < count; i++) {
      const seed = i > 0 ? ["--seed", await tcpAddressOf(nodes[i - 1])] : [];
      nodes.push(await startNode(["--data-dir", `${dir.path}/n${i}`, "--log-format", "json", ...seed, ...extra(i)]));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    ids: nodes.map(didOf),
    bases: nodes.map((n) => `http://127.0.0.1:${n.healthPort}`),
    stop,
  };
}

/** Options of `openPeerPage`. */
export interface PeerPageOptions {
  /** Options passed to `connect` in the page (JSON). Default `{}` (identity kept in IndexedDB). */
  connect?: Record<string, unknown>;
  /** Reuse this page instead of opening one in a fresh browser context. */
  page?: Page;
  /** The identity's seed (sent as JSON, made a `Uint8Array` in the page). */
  seed?: Uint8Array;
  /** UCAN chains (token file texts) the page's node holds, parsed in the page into `node.auth.chains`. */
  chains?: string[];
}

/**
 * A page in its own browser context (own IndexedDB) on `base`'s origin,
 * with `/macula.js` imported as `globalThis.macula` and, connected through
 * that node, the peer as `globalThis.peer` (a `Node`). Returns the page and
 * the peer's did. Page errors are collected in `errors`.
 */
export async function openPeerPage(
  browser: Browser,
  base: string,
  options: PeerPageOptions = {},
): Promise<{ page: Page; did: string; errors: string[] }> {
  const page = options.page ?? await (await browser.createBrowserContext()).newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Any page of the node's origin will do: the library and IndexedDB belong to that origin.
  await page.goto(`${base}/health`, { waitUntil: "load" });
  const did = await page.evaluate(
    async (src: string, opts: Record<string, unknown>, seed: number[] | null, chains: string[]) => {
      const g = globalThis as Record<string, unknown>;
      const macula = await import(src);
      g.macula = macula;
      const o = structuredClone(opts) as {
        identity?: Record<string, unknown>;
        node?: { auth?: { chains?: unknown[] } };
      };
      if (seed) o.identity = { ...o.identity, seed: new Uint8Array(seed) };
      if (chains.length) {
        o.node = { ...o.node, auth: { ...o.node?.auth, chains: chains.map((c) => macula.parseChain(c)) } };
      }
      const peer = await macula.connect(o);
      g.peer = peer;
      return peer.did as string;
    },
    `${base}/macula.js`,
    options.connect ?? {},
    options.seed ? [...options.seed] : null,
    options.chains ?? [],
  );
  return { page, did, errors };
}

/**
 * Run `fn(peer, macula, ...args)` in the page: `peer` is the page's node,
 * `macula` the module `/macula.js`. `fn` is sent as source, so it sees only
 * its arguments (JSON values), not the test's scope.
 */
export function inPage<T, A extends unknown[]>(
  page: Page,
  fn: (peer: BrowserNode, macula: typeof Macula, ...args: A) => T | Promise<T>,
  ...args: A
): Promise<T> {
  const source = `(${fn.toString()})`;
  return page.evaluate(
    (src: string, a: unknown[]) => {
      const g = globalThis as Record<string, unknown>;
      return (0, eval)(src)(g.peer, g.macula, ...a);
    },
    source,
    args as unknown[],
  ) as Promise<T>;
}
