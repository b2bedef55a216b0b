/**
 * Rendered screens, kept as bytes and shared by every screen that asks. A page is a function of
 * the data's version, its refresh, the minute it was rendered in (its stamp), the stamp's time
 * zone and what its running timers read, so that is its ETag: within a minute a hundred kiosks reloading every five seconds
 * get the same bytes, or a 304, and the stamp still moves on every minute, which is what shows a
 * screen that stopped reloading.
 *
 * Anonymous readers choose the refresh and the zone, so neither may multiply the work or the
 * memory: a page is rendered once per data, minute and zone, with a placeholder where its refresh
 * goes, and each refresh's bytes are put together from that (a copy, not a render). Both caches
 * are bounded in bytes; a client cycling `?refresh=` only churns the cheap one.
 */
import type { Clock } from "../core/clock.ts";
import { Lru } from "../core/lru.ts";
import type { Game } from "../core/schema.ts";
import type { Scope } from "../core/scope.ts";
import { shownSeconds, timerMs } from "../core/timer.ts";
import type { Store } from "../store/store.ts";
import {
  boardOrder,
  type Frame,
  refreshWords,
  renderBoardPage,
  renderEmbedPage,
  renderGamePage,
  renderWaitingPage,
} from "./kiosk_render.ts";
import { type BoardQuery, DEFAULT_PER_PAGE, type PageQuery } from "./page_params.ts";

/** Seconds between reloads while a shown game is live, and otherwise (the contract's defaults). */
export const LIVE_REFRESH_SECONDS = 5;
export const IDLE_REFRESH_SECONDS = 60;

const MINUTE_MS = 60_000;
/**
 * Bytes of rendered pages kept (templates, and pages put together for a refresh), each: a few
 * per screen configuration in use, the least recently used going first. A board of 300 games is
 * about 250 KiB.
 */
export const PAGE_CACHE_BYTES = 8 * 1024 * 1024;

export interface RenderedPage {
  status: 200 | 404;
  body: Uint8Array<ArrayBuffer>;
  /** Null for a 404: preconditions apply only to a page that exists (RFC 9110 13.2.1). */
  etag: string | null;
  refresh: number;
  /** Where the refresh goes: the board's next page when it has several; null for the same URL. */
  refreshUrl: string | null;
}

export interface KioskPagesOptions {
  store: Pick<Store, "get" | "resume">;
  clock: Clock;
  /** The stylesheet's URL; it is part of every page. */
  stylesheet: () => Promise<string>;
}

const encoder = new TextEncoder();

/**
 * A page rendered with a placeholder refresh: its bytes cut where the refresh goes, as a number
 * (the meta refresh) or in words (the footer).
 */
interface Template {
  status: 200 | 404;
  parts: Uint8Array[];
  /** Between parts[i] and parts[i + 1]: the refresh as a number, or in words. */
  slots: ("number" | "words")[];
  bytes: number;
}

export class KioskPages {
  /** Pages rendered so far (template cache misses), for tests and metrics. */
  renders = 0;
  readonly #templates = new Lru<Template>(PAGE_CACHE_BYTES, (t) => t.bytes);
  readonly #pages = new Lru<RenderedPage>(PAGE_CACHE_BYTES, (p) => p.body.byteLength);
  readonly #options: KioskPagesOptions;
  /**
   * The placeholder refresh: far outside 1–3600 and random, so that neither it nor its words
   * ("N min") can be anything else on a page, whatever a scorer writes in a title.
   */
  readonly #placeholder = 1e14 + Math.floor(Math.random() * 8e14);

  constructor(options: KioskPagesOptions) {
    this.#options = options;
  }

  /** Bytes held by both caches, for tests. */
  get cachedBytes(): number {
    return this.#templates.used + this.#pages.used;
  }

  /**
   * `GET /`: every game, or one filter's, `per` to a page. With several pages, each page's refresh
   * goes to the next (the last to the first), so a wall screen cycles through every game. Pages
   * are cached by the page they show, never by the number asked: a page past the last is the
   * first, so page numbers cannot grow the cache. A `refresh` the screen set is carried in the
   * next page's URL as the placeholder, filled in with the rest of the page.
   */
  async board(query: PageQuery, board: BoardQuery): Promise<RenderedPage> {
    const resume = await this.#options.store.resume(null, board.scope);
    if (resume.kind !== "snapshot") throw new Error("a resume without cursor is a snapshot");
    const { version, games } = resume;
    const ordered = boardOrder(games);
    const pages = Math.max(1, Math.ceil(ordered.length / board.per));
    const page = board.page > pages ? 1 : board.page;
    const shown = ordered.slice((page - 1) * board.per, page * board.per);
    const carried = query.refresh === null ? null : this.#placeholder;
    const next = pages > 1
      ? boardUrl(board.scope, board.per, (page % pages) + 1, { ...query, refresh: carried })
      : null;
    const refresh = query.refresh === null ? "auto" : "set";
    const data = `board|${board.scope.key}|${version}|${board.per}|${page}/${pages}|${refresh}`;
    return this.#page(
      { data, status: 200, shown, query, next },
      (frame) => renderBoardPage(shown, frame, { scope: board.scope, page, pages, per: board.per }),
    );
  }

  /** `GET /games/{id}`: one game, or the waiting page while it does not exist. */
  async game(id: string, query: PageQuery): Promise<RenderedPage> {
    const game = await this.#options.store.get(id);
    if (!game) {
      return this.#page(
        { data: `wait|${id}`, status: 404, shown: [], query },
        (frame) => renderWaitingPage(id, frame),
      );
    }
    const data = `game|${id}|${game.version}`;
    return this.#page(
      { data, status: 200, shown: [game], query },
      (frame) => renderGamePage(game, frame),
    );
  }

  /** `GET /embed/games/{id}`: the widget, with the game as markup for browsers without JS. */
  async embed(id: string, query: PageQuery): Promise<RenderedPage> {
    const game = await this.#options.store.get(id);
    const data = `embed|${id}|${game?.version ?? "none"}|${query.theme}|${query.timeline}`;
    const shown = game ? [game] : [];
    return this.#page(
      { data, status: game ? 200 : 404, shown, query },
      (frame) =>
        renderEmbedPage(id, game, { ...frame, theme: query.theme, timeline: query.timeline }),
    );
  }

  /**
   * The page for `data` (what it shows, with its version) in this request's frame: from the
   * cache, or put together from its template, rendered once per data, minute and zone. Its
   * refresh is the query's, else the default for the games shown.
   */
  async #page(
    page: {
      data: string;
      status: 200 | 404;
      shown: readonly Game[];
      query: PageQuery;
      /** The next page's URL, its refresh (if any) as the placeholder. */
      next?: string | null;
    },
    render: (frame: Frame) => string,
  ): Promise<RenderedPage> {
    const { data, status, query } = page;
    const refresh = query.refresh ?? defaultRefresh(page.shown);
    const now = this.#options.clock.now();
    const minute = Math.floor(now / MINUTE_MS);
    const frame = `${minute}|${query.zone.id}${timersShown(page.shown, now)}`;
    const base = `${data}|${frame}`;
    const key = `${data}|${refresh}|${frame}`;
    const cached = this.#pages.get(key);
    if (cached) return cached;
    let template = this.#templates.get(base);
    if (!template) {
      const html = render({
        stylesheet: await this.#options.stylesheet(),
        refresh: this.#placeholder,
        renderedAt: minute * MINUTE_MS,
        now,
        zone: query.zone,
        refreshUrl: page.next ?? null,
      });
      this.renders++;
      template = this.#template(status, html);
      this.#templates.set(base, template);
    }
    const rendered: RenderedPage = {
      status: template.status,
      body: assemble(template, refresh),
      // The key is all the data the bytes depend on (a new deployment's markup reaches screens
      // with the next minute); ids and zone names hold no quote or space, so it is a valid tag.
      etag: status === 200 ? `"${key.replaceAll("|", ".")}"` : null,
      refresh,
      refreshUrl: page.next?.replace(String(this.#placeholder), String(refresh)) ?? null,
    };
    this.#pages.set(key, rendered);
    return rendered;
  }

  #template(status: 200 | 404, html: string): Template {
    const number = String(this.#placeholder);
    const words = refreshWords(this.#placeholder);
    const pieces = html.split(new RegExp(`(${number}|${words})`));
    const parts: Uint8Array[] = [];
    const slots: Template["slots"] = [];
    pieces.forEach((piece, i) => {
      if (i % 2 === 0) parts.push(encoder.encode(piece));
      else slots.push(piece === number ? "number" : "words");
    });
    return { status, parts, slots, bytes: parts.reduce((n, part) => n + part.byteLength, 0) };
  }
}

/** A template's bytes with `refresh` in its slots. */
function assemble(template: Template, refresh: number): Uint8Array<ArrayBuffer> {
  const fill = {
    number: encoder.encode(String(refresh)),
    words: encoder.encode(refreshWords(refresh)),
  };
  const filled = template.slots.map((slot) => fill[slot]);
  const body = new Uint8Array(
    template.bytes + filled.reduce((n, bytes) => n + bytes.byteLength, 0),
  );
  let at = 0;
  template.parts.forEach((part, i) => {
    body.set(part, at);
    at += part.byteLength;
    const slot = filled[i];
    if (slot) {
      body.set(slot, at);
      at += slot.byteLength;
    }
  });
  return body;
}

/**
 * What the running timers on a page read, to the second, as part of its key and ETag: a page
 * showing a running timer is new each second it is asked for (a reload shows the time moved on),
 * while one whose timers are stopped, or held at their limit, stays the same page (and a 304).
 */
function timersShown(games: readonly Game[], now: number): string {
  let shown = "";
  for (const game of games) {
    if (game.timer?.running) {
      shown += `|t${shownSeconds(timerMs(game, now)!, game.timer.direction)}`;
    }
  }
  return shown;
}

/** 5 s while any game shown is live, 60 s otherwise. */
export function defaultRefresh(games: readonly Game[]): number {
  return games.some((game) => game.status === "live") ? LIVE_REFRESH_SECONDS : IDLE_REFRESH_SECONDS;
}

/**
 * The URL of a board page: the filter, `per` unless the default, the page, and `refresh` and `tz`
 * when the screen's URL set them, so the next page looks like this one.
 */
export function boardUrl(scope: Scope, per: number, page: number, query: PageQuery): string {
  const params: string[] = [];
  if (scope.kind === "competition") params.push(`competition=${scope.id}`);
  if (scope.kind === "games") params.push(`games=${scope.ids.join(",")}`);
  if (per !== DEFAULT_PER_PAGE) params.push(`per=${per}`);
  params.push(`page=${page}`);
  if (query.refresh !== null) params.push(`refresh=${query.refresh}`);
  if (query.zone.id !== "UTC") params.push(`tz=${encodeURIComponent(query.zone.id)}`);
  return `/?${params.join("&")}`;
}
