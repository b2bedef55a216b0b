/**
 * Rendered screens, kept as bytes and shared by every screen that asks. A page is a function of
 * the data's version, its refresh, the minute it was rendered in (its stamp) and the stamp's
 * time zone, so that is its ETag: within a minute a hundred kiosks reloading every five seconds
 * get the same bytes, or a 304, and the stamp still moves on every minute, which is what shows a
 * screen that stopped reloading.
 *
 * Anonymous readers choose the refresh and the zone, so neither may multiply the work or the
 * memory: a page is rendered once per data, minute and zone, with a placeholder where its refresh
 * goes, and each refresh's bytes are put together from that (a copy, not a render). Both caches
 * are bounded in bytes; a client cycling `?refresh=` only churns the cheap one.
 */
import type { Clock } from "../core/clock.ts";
import type { Game } from "../core/schema.ts";
import type { Store } from "../store/store.ts";
import { Lru } from "../core/lru.ts";
import {
  type Frame,
  refreshWords,
  renderBoardPage,
  renderEmbedPage,
  renderGamePage,
  renderWaitingPage,
} from "./kiosk_render.ts";
import type { PageQuery } from "./page_params.ts";

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
}

export interface KioskPagesOptions {
  store: Pick<Store, "get" | "snapshot">;
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

  /** `GET /`: every game. */
  async board(query: PageQuery): Promise<RenderedPage> {
    const { version, games } = await this.#options.store.snapshot();
    return this.#page(
      { data: `board|${version}`, status: 200, shown: games, query },
      (frame) => renderBoardPage(games, frame),
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
    const data = `embed|${id}|${game?.version ?? "none"}|${query.theme}`;
    const shown = game ? [game] : [];
    return this.#page(
      { data, status: game ? 200 : 404, shown, query },
      (frame) => renderEmbedPage(id, game, { ...frame, theme: query.theme }),
    );
  }

  /**
   * The page for `data` (what it shows, with its version) in this request's frame: from the
   * cache, or put together from its template, rendered once per data, minute and zone. Its
   * refresh is the query's, else the default for the games shown.
   */
  async #page(
    page: { data: string; status: 200 | 404; shown: readonly Game[]; query: PageQuery },
    render: (frame: Frame) => string,
  ): Promise<RenderedPage> {
    const { data, status, query } = page;
    const refresh = query.refresh ?? defaultRefresh(page.shown);
    const minute = Math.floor(this.#options.clock.now() / MINUTE_MS);
    const base = `${data}|${minute}|${query.zone.id}`;
    const key = `${data}|${refresh}|${minute}|${query.zone.id}`;
    const cached = this.#pages.get(key);
    if (cached) return cached;
    let template = this.#templates.get(base);
    if (!template) {
      const html = render({
        stylesheet: await this.#options.stylesheet(),
        refresh: this.#placeholder,
        renderedAt: minute * MINUTE_MS,
        zone: query.zone,
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

/** 5 s while any game shown is live, 60 s otherwise. */
export function defaultRefresh(games: readonly Game[]): number {
  return games.some((game) => game.status === "live") ? LIVE_REFRESH_SECONDS : IDLE_REFRESH_SECONDS;
}
