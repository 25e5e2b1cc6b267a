/** Shared by the console tests: a node with the console on a real status server, an SSE reader. */
import type { Node } from "../../src/api/node.ts";
import { type ConsoleRoutes, consoleRoutes, type ConsoleRoutesOptions } from "../../src/http/console-routes.ts";
import { startStatusServer, type StatusServerOptions } from "../../src/http/status-server.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import type { HttpServer } from "../../src/platform/types.ts";
import type { ConsoleSnapshot } from "../../src/console/protocol.ts";

/** A console on 127.0.0.1 (any port) for `node`. */
export async function serveConsole(
  node: Node,
  options: ConsoleRoutesOptions = {},
  server: Omit<StatusServerOptions, "routes"> = {},
): Promise<{ base: string; web: ConsoleRoutes; server: HttpServer; close(): Promise<void> }> {
  const web = consoleRoutes(node, options);
  const s = await startStatusServer(node, currentPlatform().http, "127.0.0.1", 0, { routes: [web.route], ...server });
  return {
    base: `http://127.0.0.1:${s.addr.port}`,
    web,
    server: s,
    async close() {
      web.close();
      await s.close();
    },
  };
}

/** Reads SSE `snapshot` events from a response body. */
export class SseReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = "";
  #decoder = new TextDecoder();
  /** Comments seen (e.g. `ping`). */
  comments: string[] = [];

  constructor(response: Response) {
    this.#reader = response.body!.getReader();
  }

  /** The next snapshot event (fails after `ms`). */
  async next(ms = 5000): Promise<ConsoleSnapshot> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const lines = block.split("\n");
        for (const l of lines) if (l.startsWith(":")) this.comments.push(l.slice(1).trim());
        if (lines.includes("event: snapshot")) {
          const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          return JSON.parse(data);
        }
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no snapshot event within ${ms} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        this.#reader.read(),
        new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("no SSE data in time")), left)),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error("the event stream ended");
      this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Cancel the stream (the client goes away). */
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}
