/**
 * A real browser for tests and for the README's screenshots: Debian's chromium driven by
 * playwright-core. Playwright gives every launch a fresh temporary profile (its own
 * --user-data-dir, which it refuses to take as an argument) and deletes it on close.
 */
import "./not_wsl.ts"; // first: before playwright-core loads
import { type Browser, chromium } from "playwright-core";
import { findBinary } from "./binaries.ts";

/** The flags every run uses: headless, no sandbox (containers), and no traffic of its own. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser extends AsyncDisposable {
  browser: Browser;
}

/** `extraArgs`: flags a test needs beyond the usual ones (say, to accept its own certificate). */
export async function launchBrowser(extraArgs: string[] = []): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: findBinary("chromium") ?? "/usr/bin/chromium",
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
  return { browser, [Symbol.asyncDispose]: () => browser.close() };
}

export interface HostPage extends AsyncDisposable {
  /** The page's URL: an origin of its own, like a third-party site embedding the widget. */
  url: string;
}

/** A file a host page serves beside itself (a framework's module, say). */
export interface HostFile {
  body: string | Uint8Array<ArrayBuffer>;
  type: string;
}

/**
 * Serves one HTML page on 127.0.0.1 (port 0): the site that embeds Scoreline, with `files` by
 * path beside it. Its favicon is an empty answer, so that the browser logs no error that a test
 * could mistake for the widget's.
 */
export function hostPage(html: string, files: Record<string, HostFile> = {}): HostPage {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/") {
      return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    const file = Object.hasOwn(files, path) ? files[path] : undefined;
    if (file) return new Response(file.body, { headers: { "content-type": file.type } });
    return new Response(null, { status: path === "/favicon.ico" ? 204 : 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
