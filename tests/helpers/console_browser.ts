/**
 * Test helper: drive the system's Chromium (Debian's `chromium`, installed
 * by `.ci/run`) with puppeteer-core. Nothing is downloaded at run time;
 * without a Chromium the browser tests are ignored with `chromiumMissing()`
 * as the printed reason.
 */
import puppeteer, { type Browser, type Page } from "npm:puppeteer-core@25.19.0";

export type { Browser, Page };

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/chrome"];

/** The Chromium to use: `$CHROMIUM` if set, else the first of the usual paths that exists; `null` if none. */
export function findChromium(): string | null {
  const fromEnv = Deno.env.get("CHROMIUM");
  for (const path of fromEnv ? [fromEnv] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there
    }
  }
  return null;
}

/** Why the browser tests cannot run here, or `null` when they can. */
export function chromiumMissing(): string | null {
  return findChromium() ? null : `no Chromium found (tried ${CANDIDATES.join(", ")}; install Debian's chromium)`;
}

/** Launch a headless Chromium (no sandbox: CI runs as root; a fresh profile per launch). */
export function openBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(chromiumMissing()!);
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--mute-audio"],
  });
}

/**
 * Evaluate `fn(...args)` in the page until it returns something truthy (at
 * most `ms`) and return that; the error names `what`. `fn` runs in the
 * browser: it sees only its arguments (JSON values), not the test's scope.
 */
export async function waitInPage<T, A extends unknown[]>(
  page: Page,
  what: string,
  ms: number,
  fn: (...args: A) => T,
  ...args: A
): Promise<T> {
  try {
    const f = fn as unknown as (...a: unknown[]) => T;
    const handle = await page.waitForFunction(f, { timeout: ms, polling: 100 }, ...(args as unknown[]));
    return await handle.jsonValue() as T;
  } catch (error) {
    throw new Error(`timed out after ${ms} ms waiting in the page for ${what}: ${(error as Error).message}`);
  }
}
