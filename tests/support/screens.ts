/**
 * The widget's pages in Chromium, for the browser tests of the screens and of the widget: helpers
 * installed in every frame, a site of another origin embedding widgets, waits on DOM conditions
 * (never on time), and every dialog, page error and failed load recorded.
 */
import assert from "node:assert/strict";
import type { Frame, Page } from "playwright-core";
import { hostPage, launchBrowser } from "./browser.ts";
import { call } from "./http.ts";
import { TOKEN } from "./server.ts";

/**
 * Page-side helpers, installed in every frame before its scripts run (Deno's types have no DOM,
 * so this is plain JavaScript). `shownScores(id)` reads what a widget shows, "2-1", or null
 * while it shows no game; `whenShown(id, "2-1")` resolves with Date.now() at the DOM mutation
 * that made the widget show it.
 */
export const PAGE_HELPERS = `
globalThis.widgetRoot = (id) => document.querySelector('scoreline-game[game="' + id + '"]')?.shadowRoot;
globalThis.shownScores = (id) => {
  const root = widgetRoot(id);
  const card = root?.querySelector(".card");
  if (!card || card.hidden) return null;
  return [...root.querySelectorAll(".score")].map((node) => node.textContent).join("-");
};
globalThis.whenShown = (id, expected) => new Promise((resolve) => {
  const check = () => shownScores(id) === expected && (resolve(Date.now()), true);
  if (check()) return;
  const observer = new MutationObserver(() => check() && observer.disconnect());
  observer.observe(widgetRoot(id), { subtree: true, childList: true, characterData: true, attributes: true });
});
`;

export function widgetHtml(server: string, games: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A site</title>
<script type="module" src="${server}/widget.js"></script></head><body>
${games.map((id) => `<scoreline-game game="${id}"></scoreline-game>`).join("\n")}
</body></html>`;
}

/** PUTs a game and returns its new version. */
export async function put(url: string, id: string, body: unknown): Promise<number> {
  const answer = await call(url, `/api/games/${id}`, { method: "PUT", token: TOKEN, body });
  assert.ok(answer.status === 200 || answer.status === 201, answer.text);
  return answer.json.version;
}

/**
 * Records the cursor each feed request of the page carries (Last-Event-ID, else `since`, else
 * null), WebSocket handshakes included; the function returned gives them, in order.
 */
export function recordCursors(page: Page): () => Promise<(string | null)[]> {
  const sent: Promise<string | null>[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith("/api/")) return;
    // A reconnect the widget starts while the page is closing cannot be read any more; nobody
    // awaits it, and its rejection would surface later as an uncaught error in another test.
    sent.push(
      request.allHeaders().then(
        (headers) => headers["last-event-id"] ?? url.searchParams.get("since"),
        () => "(page closed)",
      ),
    );
  });
  page.on("websocket", (socket) => {
    sent.push(Promise.resolve(new URL(socket.url()).searchParams.get("since")));
  });
  return () => Promise.all(sent);
}

/** Waits for `what` to happen on the server, or fails after 10 s instead of hanging the run. */
export async function soon(promise: Promise<void>, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within 10 s`)), 10_000);
  });
  try {
    await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** What PAGE_HELPERS adds to every frame. */
export interface PageHelpers {
  shownScores(id: string): string | null;
}

/**
 * Waits until the widget for `id` shows `scores` ("2-1"). The predicate is a function, not a
 * string: a string would be eval'd in the page, which the embed's CSP rightly forbids.
 */
export async function shows(target: Page | Frame, id: string, scores: string): Promise<void> {
  await target.waitForFunction(
    (want) => (globalThis as unknown as PageHelpers).shownScores(want.id) === want.scores,
    { id, scores },
  );
}

export interface Screen extends AsyncDisposable {
  page: Page;
  /** Everything the page reported that would mean a script ran or something broke. */
  problems: string[];
}

/**
 * A fresh browser with one page, the page helpers installed in every frame (after `init`, a
 * script that runs before the page's own), and every dialog, error and failed load recorded.
 */
export async function openScreen(
  options: { init?: string; javaScript?: boolean } = {},
): Promise<Screen> {
  const chrome = await launchBrowser();
  try {
    const context = await chrome.browser.newContext({
      javaScriptEnabled: options.javaScript ?? true,
    });
    if (options.init) await context.addInitScript(options.init);
    await context.addInitScript(PAGE_HELPERS);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("dialog", (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    return { page, problems, [Symbol.asyncDispose]: () => chrome[Symbol.asyncDispose]() };
  } catch (error) {
    await chrome[Symbol.asyncDispose]();
    throw error;
  }
}

export interface Site extends Screen {
  /** The site's page: another origin than the service, as a news site embedding scores. */
  url: string;
}

/** A site showing `html` (widgets of the service, an iframe), and a browser to look at it. */
export async function openSite(html: string, options: { init?: string } = {}): Promise<Site> {
  const host = hostPage(html);
  try {
    const screen = await openScreen(options);
    return {
      ...screen,
      url: host.url,
      async [Symbol.asyncDispose]() {
        await screen[Symbol.asyncDispose]();
        await host[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await host[Symbol.asyncDispose]();
    throw error;
  }
}

/** A news site's page holding the service's embed page `src` in an iframe `height` pixels high. */
export function embedSiteHtml(src: string, height: number): string {
  return `<!doctype html><title>News</title><iframe src="${src}"
        title="Cup Final live score" width="360" height="${height}"></iframe>`;
}

/** Opens the site and returns the frame of the embed page of game `id` it holds. */
export async function loadEmbed(site: Site, id: string): Promise<Frame> {
  await site.page.goto(site.url);
  const frame = site.page.frames().find((f) => f.url().includes(`/embed/games/${id}`));
  assert.ok(frame, "the iframe loaded the embed");
  return frame;
}
