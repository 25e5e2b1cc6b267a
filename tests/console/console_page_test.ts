/**
 * The console page in a real Chromium, fed by the fixture server with
 * snapshots the test chooses: every section renders, the graph follows the
 * snapshots live, actions post the contract's bodies, read-only hides them,
 * and the page fits a phone's width in one column.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { chromiumMissing, openBrowser, type Page, waitInPage } from "../helpers/console_browser.ts";
import { sampleSnapshot, serveConsoleFixture } from "../helpers/console_fixture.ts";

// The callbacks below run in the browser; this declares the little of the DOM they use (the DOM lib clashes with Deno's).
interface El {
  getAttribute(name: string): string | null;
  textContent: string | null;
  innerText: string;
  offsetLeft: number;
  value: string;
  style: { width: string };
  querySelector(selector: string): El | null;
}
declare const document: {
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
  documentElement: { scrollWidth: number };
};
declare const innerWidth: number;
declare function getComputedStyle(e: El): { strokeDasharray: string };

const missing = chromiumMissing();
if (missing) console.log(`SKIPPED console page tests: ${missing}`);

const peerIds = (page: Page) =>
  page.$$eval(
    "[data-peer-id]",
    (els) => els.map((e) => [e.getAttribute("data-peer-id"), e.getAttribute("data-state")]),
  );

Deno.test({
  name: "console page: renders every section, follows the stream live, posts actions, fits a phone",
  ignore: missing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const first = sampleSnapshot();
    const fixture = await serveConsoleFixture(first);
    const browser = await openBrowser();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`${fixture.origin}/console`);
      await waitInPage(
        page,
        "4 peers in the graph",
        10_000,
        () => document.querySelectorAll("[data-peer-id]").length === 4,
      );

      // The graph: the right ids and states, a dashed relayed edge named after its relay.
      const peers = new Map((await peerIds(page)) as [string, string][]);
      assertEquals([...peers.keys()].sort(), first.peers.map((p) => p.id).sort());
      assertEquals(peers.get(first.peers[3].id), "suspect");
      assertEquals(peers.get(first.peers[0].id), "alive");
      const relayed = await page.$eval(`[data-edge="${first.peers[2].id}"]`, (e) => ({
        cls: e.getAttribute("class"),
        label: e.textContent,
        dash: getComputedStyle((e as unknown as El).querySelector("line")!).strokeDasharray,
      }));
      assertEquals(relayed.cls, "edge relayed");
      assert(relayed.label!.includes("relay 31 ms via"), relayed.label!);
      assert(relayed.dash !== "none", `dashed: ${relayed.dash}`);
      const direct = await page.$eval(`[data-edge="${first.peers[0].id}"]`, (e) => e.textContent);
      assertEquals(direct!.trim(), "quic 0.42 ms");

      // The other sections.
      const text = await page.$eval("main", (e) => (e as unknown as El).innerText);
      for (
        const expected of [
          "sensors.temp",
          "12.5",
          "time.now",
          "5.0 MiB of 64 MiB used",
          "pinned",
          "healthy",
          "1 h 2 min",
        ]
      ) {
        assert(text.includes(expected), `the page shows ${expected}`);
      }
      assertEquals(await page.$eval("#node-id", (e) => e.textContent), first.node.id);
      assertEquals(await page.$$eval("#charts canvas", (els) => els.length), 4);
      assertEquals(
        await page.$$eval("#members tr[data-state]", (els) => els.map((e) => e.getAttribute("data-state"))),
        [
          "alive",
          "alive",
          "alive",
          "suspect",
        ],
      );
      assertEquals(await page.$eval("[role=progressbar] .fill", (e) => (e as unknown as El).style.width), "7.8%");

      // Live: a peer leaves, another turns dead, a topic's rate moves.
      const next = sampleSnapshot();
      next.peers = next.peers.filter((p) => p.id !== first.peers[1].id);
      next.members = next.members.filter((m) => m.id !== first.peers[1].id);
      next.members.find((m) => m.id === first.peers[3].id)!.state = "dead";
      next.realms[0].topics[1].rate = 3;
      fixture.push(next);
      await waitInPage(
        page,
        "the peer gone, the dead one marked, the rate moved",
        5_000,
        (gone: string, dead: string) =>
          !document.querySelector(`[data-peer-id="${gone}"]`) &&
          document.querySelector(`[data-peer-id="${dead}"]`)?.getAttribute("data-state") === "dead" &&
          document.querySelector('[data-topic="console.test"] .rate')?.getAttribute("data-rate") === "3",
        first.peers[1].id,
        first.peers[3].id,
      );

      // Actions post the contract's bodies and show the answer.
      await page.click("#action-publish button");
      await waitInPage(page, "the publish result", 5_000, () => document.querySelector("pre.result.ok")?.textContent);
      assertEquals(fixture.actions.at(-1), {
        kind: "publish",
        topic: "console.test",
        payload: "hello from the console",
      });
      await page.click("#action-ping button");
      await waitInPage(page, "the ping result", 5_000, () => document.querySelector('pre[data-action="ping"]'));
      assertEquals(fixture.actions.at(-1), { kind: "ping", peer: first.peers[0].id });
      await page.$eval("#action-call input[name=args]", (e) => ((e as unknown as El).value = ""));
      await page.type("#action-call input[name=procedure]", "time.now");
      await page.type("#action-call input[name=args]", "[1, 2");
      await page.click("#action-call button");
      await waitInPage(
        page,
        "the bad-JSON error",
        5_000,
        () => document.querySelector("pre.result.error")?.textContent,
      );
      assertEquals(fixture.actions.length, 2, "bad JSON arguments are refused in the page");

      // Phone width: one column, no horizontal scrolling.
      await page.setViewport({ width: 390, height: 844 });
      await waitInPage(page, "one column", 5_000, () => {
        const cards = [...document.querySelectorAll(".card")];
        return cards.every((c) => c.offsetLeft === cards[0].offsetLeft) &&
          document.documentElement.scrollWidth <= innerWidth;
      });

      // Read-only: no actions.
      fixture.push({ ...next, readonly: true });
      await waitInPage(page, "actions hidden", 5_000, () => !document.querySelector("#action-publish"));
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await fixture.close();
    }
  },
});
