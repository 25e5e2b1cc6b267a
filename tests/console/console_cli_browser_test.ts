/**
 * The console in a real browser against real nodes: three CLI processes
 * cluster on loopback; Chromium opens node 0's console and sees both peers
 * with their ids; one peer is SIGKILLed and leaves the graph or turns dead;
 * a message published through the console's action moves the topic's rate
 * on the page. A screenshot is saved in the test's temp dir. (A console off
 * loopback answering 401 without the token is tested with a real
 * non-loopback address in tests/console/console_netns_test.ts.)
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, startNode } from "../helpers/cli.ts";
import { chromiumMissing, openBrowser, waitInPage } from "../helpers/console_browser.ts";

// The callbacks below run in the browser; the little of the DOM they use (the DOM lib clashes with Deno's).
interface El {
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
};

const missing = chromiumMissing();
if (missing) console.log(`SKIPPED console CLI browser test: ${missing}`);

const r = () => 1 + Math.floor(Math.random() * 250);

function didOf(p: NodeProcess): string {
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

Deno.test({
  name:
    "console in Chromium: 3 CLI nodes — 2 peers with their ids, a killed one leaves or turns dead, a publish moves the rate",
  ignore: missing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await scratchDir();
    const cluster = ["--cluster-group", `239.79.${r()}.${r()}`, "--cluster-port", String(40000 + r() * 80)];
    const env = { CLUSTER_STRATEGY: "gossip", CLUSTER_SECRET: `console-${crypto.randomUUID()}` };
    const nodes: NodeProcess[] = [];
    const browser = await openBrowser();
    try {
      nodes.push(
        ...await Promise.all(
          [0, 1, 2].map((i) =>
            startNode(["--data-dir", `${dir.path}/n${i}`, "--log-format", "json", ...cluster], { env })
          ),
        ),
      );
      const ids = nodes.map(didOf);
      const base = `http://127.0.0.1:${nodes[0].healthPort}`;
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`${base}/console`, { waitUntil: "load" });

      const shown = (await waitInPage(
        page,
        "both peers in the graph",
        20_000,
        (want: string[]) => {
          const got = [...document.querySelectorAll("[data-peer-id]")].map((e) => e.getAttribute("data-peer-id"));
          return want.every((id) => got.includes(id)) ? got : null;
        },
        ids.slice(1),
      ))!;
      assertEquals([...shown].sort(), ids.slice(1).sort(), "exactly the two peers, by id");

      // a message through the console's own action moves the topic's rate on the page
      const topic = "demo.console.temp";
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${base}/console/actions/publish`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ kind: "publish", topic, payload: `t${i}` }),
        });
        assertEquals(res.status, 200, await res.text());
      }
      await waitInPage(
        page,
        "the topic's rate above 0",
        10_000,
        (t: string) => {
          const cell = document.querySelector(`tr[data-topic="${t}"] [data-rate]`);
          return cell !== null && Number(cell.getAttribute("data-rate")) > 0;
        },
        topic,
      );

      // SIGKILL one peer: it leaves the graph or turns dead within the membership detection time
      const victim = ids[2];
      const killedAt = Date.now();
      await nodes[2].stop("SIGKILL");
      await waitInPage(
        page,
        "the killed peer gone or dead",
        20_000,
        (id: string) => {
          const el = document.querySelector(`[data-peer-id="${id}"]`);
          return el === null || el.getAttribute("data-state") === "dead";
        },
        victim,
      );
      console.log(`  killed peer gone or dead on the page after ${Date.now() - killedAt} ms`);
      assert(
        await page.evaluate((id: string) => document.querySelector(`[data-peer-id="${id}"]`) !== null, ids[1]),
        "the live peer stays",
      );
      // kept in its own temp dir (the nodes' dirs are removed); CONSOLE_SCREENSHOT=docs/console.png (task
      // console:screenshot) writes the README's picture instead
      const to = Deno.env.get("CONSOLE_SCREENSHOT");
      const shot = to
        ? (to.startsWith("/") ? to : new URL(`../../${to}`, import.meta.url).pathname)
        : `${await Deno.makeTempDir({ prefix: "macula-console-" })}/console.png`;
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      console.log(`  screenshot: ${shot}`);
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await Promise.all(nodes.map((n) => n.stop("SIGKILL").catch(() => 0)));
      await dir.cleanup();
    }
  },
});
