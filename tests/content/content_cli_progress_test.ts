/**
 * What `macula content fetch` shows and how it stops: a progress bar
 * redrawn in place on a terminal (run under `script`, which gives it a
 * pty), plain periodic lines otherwise, and SIGINT mid-fetch ends it with
 * exit code 1, one line, and no temp file left behind.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, spawnCli, startNode, startPermissions, waitFor } from "../helpers/cli.ts";
import { addrOf, publish, randomFile, ROOT, sha256File, transferBytes } from "./helpers/cli_content.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MiB = 1024 * 1024;

Deno.test({
  name:
    "content CLI: a progress bar on a terminal, plain lines otherwise; SIGINT stops a fetch cleanly; no bytes to a terminal",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const input = `${dir.path}/input.bin`;
      await randomFile(input, 6 * MiB);
      const provider = await startNode(["--data-dir", `${dir.path}/p`, "--content-upload-rate", "2M"]);
      nodes.push(provider);
      const mcid = await publish(provider, input);
      const fetcher = await startNode(["--data-dir", `${dir.path}/f`, "--seed", await addrOf(provider)]);
      nodes.push(fetcher);
      const port = ["--health-port", String(fetcher.healthPort)];

      // Not a terminal: a plain line every 2 s on stderr, then the summary (6 MiB at 2 MiB/s: about 3 s).
      const out = `${dir.path}/out.bin`;
      const plain = spawnCli(["content", "fetch", mcid, "-o", out, ...port]);
      assertEquals((await plain.done).code, 0, plain.err.join("\n"));
      assert(
        plain.err.some((l) => /^fetching: .* of 6\.00 MiB \(\d+%\), .*\/s, ETA \w+, 1 provider$/.test(l)),
        plain.err.join("\n"),
      );
      assert(plain.err.at(-1)!.startsWith(`fetched 6.00 MiB to ${out} in `), plain.err.join("\n"));
      assertEquals(plain.err.some((l) => l.includes("\r")), false);
      const rm = spawnCli(["content", "rm", mcid, ...port]);
      assertEquals((await rm.done).code, 0, rm.err.join("\n"));

      // SIGINT after the transfer started: exit 1, "interrupted", no .part file, no output file.
      await Deno.remove(`${ROOT}/${out}`);
      const cli = spawnCli(["content", "fetch", mcid, "-o", out, ...port]);
      await waitFor(async () => (await transferBytes(fetcher, mcid)) > 0, 15_000, "the transfer");
      cli.child.kill("SIGINT");
      const status = await cli.done;
      assertEquals(status.code, 1, cli.err.join("\n"));
      assert(cli.err.at(-1)!.startsWith("macula: interrupted (SIGINT)"), cli.err.join("\n"));
      assertEquals(
        [...Deno.readDirSync(`${ROOT}/${dir.path}`)].map((e) => e.name).filter((n) => n.includes("out")),
        [],
      );

      // On a terminal (a pty from script(1)); the fetcher resumes what the interrupted fetch kept.: the bar, redrawn with \r, then the summary line.
      const command = [
        Deno.execPath(),
        "run",
        ...startPermissions(),
        "main.ts",
        "content",
        "fetch",
        mcid,
        "-o",
        out,
        ...port,
      ]
        .join(" ");
      const tty = await new Deno.Command("script", {
        args: ["-qfec", command, "/dev/null"],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const shown = new TextDecoder().decode(tty.stdout);
      assertEquals(tty.code, 0, shown);
      assert(
        /\r\[[#.]{24}\] +\d+% {2}.* \/ 6\.00 MiB {2}.*\/s {2}ETA /.test(shown),
        JSON.stringify(shown.slice(0, 400)),
      );
      assert(shown.includes("fetched 6.00 MiB to"), shown);
      assertEquals(await sha256File(out), await sha256File(input));

      // Content is not written to a terminal: exit 2 and one line.
      const raw = await new Deno.Command("script", {
        args: ["-qfec", command.replace(` -o ${out}`, ""), "/dev/null"],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdout: "piped",
      }).output();
      const said = new TextDecoder().decode(raw.stdout);
      assertEquals(raw.code, 2, said);
      assert(said.includes("macula: refusing to write content to a terminal; give -o FILE"), said);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});
