/**
 * The browser implementation of `Platform`, installed by the browser entry
 * (`src/browser/entry.ts`) before anything asks for the platform. A page has
 * no sockets, listeners, HTTP server, files or environment: those throw
 * `BrowserUnavailableError` (code `E_BROWSER_UNAVAILABLE`) when called. The
 * process API is built from web standards: `performance` for memory where
 * the browser reports it, `pagehide` for the shutdown signal, the console
 * for output, no interfaces. A browser peer reaches the mesh through the
 * WebSocket transport (the W3C `WebSocket`), which needs none of these.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";
import type { FsApi, HttpApi, Platform, ProcessApi, TcpApi } from "./types.ts";

/** Thrown when code asks a browser for what only a server runtime has (TCP, files, an HTTP server, …). */
export class BrowserUnavailableError extends MaculaError {
  /** `what` names the facility, e.g. `"TCP listen"`. */
  constructor(what: string) {
    super("E_BROWSER_UNAVAILABLE", `${what} is not available in a browser (a browser peer reaches the mesh over ws)`);
  }
}

function unavailable(what: string): never {
  throw new BrowserUnavailableError(what);
}

function rejected(what: string): Promise<never> {
  return Promise.reject(new BrowserUnavailableError(what));
}

const tcp: TcpApi = {
  listen: () => rejected("TCP listen"),
  connect: () => rejected("TCP connect"),
};

const http: HttpApi = {
  serve: () => rejected("an HTTP server"),
};

const fs: FsApi = {
  readFile: () => rejected("reading files"),
  writeFileAtomic: () => rejected("writing files"),
  mkdir: () => rejected("making directories"),
  fileMode: () => rejected("file modes"),
  open: () => rejected("opening files"),
  rename: () => rejected("renaming files"),
  remove: () => rejected("removing files"),
  readDir: () => rejected("reading directories"),
  stat: () => rejected("stat"),
  syncDir: () => rejected("syncing directories"),
  readStream: () => unavailable("reading files"),
  join: (...parts) => parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/"),
  resolve: (path) => path,
};

/** What Chromium reports in `performance.memory` (non-standard; absent elsewhere). */
interface ChromiumMemory {
  usedJSHeapSize?: number;
}

/** A `globalThis` that may be a window (the types of this project do not include the DOM's). */
interface PageGlobal {
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
}

function browserProcess(): ProcessApi {
  const page = globalThis as PageGlobal;
  return {
    env: () => undefined,
    interfaces: () => [],
    onShutdownSignal(handler) {
      // The page going away (closed, reloaded, navigated) is the browser's SIGTERM.
      const listener = () => handler("pagehide");
      page.addEventListener?.("pagehide", listener);
      return () => page.removeEventListener?.("pagehide", listener);
    },
    stdout: (text) => console.log(text.replace(/\n$/, "")),
    stderr: (text) => console.error(text.replace(/\n$/, "")),
    stdin: () => unavailable("standard input"),
    writeStdout: () => rejected("binary standard output"),
    isTerminal: () => false,
    exit: () => unavailable("exiting the process"),
    args: [],
    memory: () => ({
      rss: (performance as unknown as { memory?: ChromiumMemory }).memory?.usedJSHeapSize ?? 0,
    }),
  };
}

/** The browser's name and version from its user agent, e.g. `"Chrome/126.0.0.0"` (or `"browser"`). */
function userAgent(): string {
  const ua = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? "";
  const m = /(Firefox|Edg|Chrome|Version)\/[\d.]+/.exec(ua);
  return m ? m[0].replace(/^Version/, "Safari") : "browser";
}

/**
 * Build the browser platform (no TCP, QUIC, UDP, HTTP server or files).
 *
 * @example
 * ```ts
 * import { createBrowserPlatform } from "./browser.ts";
 * const platform = createBrowserPlatform();
 * console.log(platform.runtime, platform.process.interfaces()); // "browser" []
 * ```
 */
export function createBrowserPlatform(): Platform {
  return {
    runtime: "browser",
    runtimeVersion: userAgent(),
    target: "web",
    tcp,
    quic: undefined,
    udp: undefined,
    http,
    fs,
    process: browserProcess(),
    permissionDenied: () => null,
  };
}
