/**
 * A CLI node whose status port is on a non-loopback address (inside a
 * network namespace): the console and the JSON API need the token, which
 * the node prints once at start.
 */
import { NetnsLab, netnsUnavailable } from "../helpers/netns.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const reason = await netnsUnavailable({ iptables: false });
if (reason) console.log(`console netns test ignored: ${reason}`);

Deno.test({
  name: "console netns: off loopback, /console and /status answer 401 without the token, 200 with it; printed once",
  ignore: reason !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const lab = await NetnsLab.create(1, { prefix: "cons" });
    try {
      const node = await lab.startNode(lab.hosts[0], ["--cluster-strategy", "off"]);
      const root = new URL("../../", import.meta.url).pathname;
      const token = (await Deno.readTextFile(`${root}${node.dataDir}/console-token`)).trim();
      assert(/^[A-Za-z0-9_-]{43}$/.test(token), "the token file holds a token");
      for (const path of ["/console", "/status", "/peers", "/metrics"]) {
        const refused = await lab.http(node, path);
        assertEquals(refused.status, 401, path);
        assertEquals(JSON.parse(refused.body).code, "E_CONSOLE_TOKEN");
        assert(JSON.parse(refused.body).error.includes("console-token"), "the 401 says where the token is");
        assertEquals((await lab.http(node, path, token)).status, 200, `${path} with the token`);
      }
      assertEquals((await lab.http(node, "/health")).status, 200);
      const lines = node.logs.filter((l) => JSON.stringify(l).includes(token));
      assertEquals(lines.length, 1, "the token is printed once");
      assert(String(lines[0].url).endsWith(`/console?token=${token}`), String(lines[0].url));
      assert(String(lines[0].url).startsWith(`http://${lab.hosts[0].addr}:8080/`), String(lines[0].url));
    } finally {
      await lab.destroy();
    }
  },
});
