/**
 * The HTML of the screens, as pure functions of a game (or games) and a frame (refresh, stamp,
 * stylesheet). Every page is written with the `markup` template tag, which escapes whatever it is
 * given unless it is already markup, so data cannot become markup by a forgotten call. The markup
 * uses table cells and inline blocks so that old browsers lay it out too, with grid and min()
 * only as refinements in the stylesheet.
 */
import { characterCount, type Game, type Side, type Status } from "../core/schema.ts";
import type { Scope } from "../core/scope.ts";
import { formatTimer, timerMs } from "../core/timer.ts";
import { markup, type SafeHtml, trusted } from "../http/html.ts";
import { STATUS_LABELS } from "../static/labels.js";
import type { Theme, Zone } from "./page_params.ts";

/** What every page shows besides its data. */
export interface Frame {
  /** The stylesheet's URL (versioned, so cached for good). */
  stylesheet: string;
  refresh: number;
  /** When the page was rendered, to the minute. */
  renderedAt: number;
  /** When the page was rendered, to the millisecond: what a running timer shows is of now. */
  now: number;
  /** The time zone of the stamp and of kick-off times. */
  zone: Zone;
  /** Where the refresh goes (the board's next page); none: the page reloads itself. */
  refreshUrl?: string | null;
}

/** Which page of the board this is, when the board has more games than one page shows. */
export interface BoardPaging {
  scope: Scope;
  page: number;
  pages: number;
  /** Games a page shows: the grid is laid out for this many. */
  per: number;
}

/** The board's order: what is being played first, then what comes next, then what is over. */
const BOARD_ORDER: Record<Status, number> = {
  live: 0,
  break: 1,
  scheduled: 2,
  final: 3,
  postponed: 4,
  cancelled: 5,
};

/** Characters past which a name is set smaller, so that it wraps at spaces, not inside words. */
const LONG_NAME = 14;

/** The favicon, inline: a kiosk makes no second request for it. */
const ICON = trusted(
  "data:image/svg+xml," + encodeURIComponent(
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' " +
      "rx='3' fill='#d4151f'/><path d='M4 5h3v6H4zM9 5h3v6H9z' fill='#fff'/></svg>",
  ),
);

/**
 * One game on a wall: huge scores, names above them, status and clock on top. Names, scores and
 * details are rows of one table, so the two scores share a baseline however the names wrap; a
 * screen reader hears the summary line instead of the table's reading order.
 */
export function renderGamePage(game: Game, frame: Frame): string {
  const { home, away } = game;
  const clock = clockText(game, frame.now);
  const state = [
    badge(game.status),
    game.period && markup` <span class="period">${game.period}</span>`,
    clock && markup` <span class="clock">${clock}</span>`,
  ];
  const summary = scoringSummary(game);
  const details = (home.detail || away.detail) &&
    markup`<div class="row"><p class="detail">${home.detail}</p><p class="mid"></p><p class="detail">${away.detail}</p></div>`;
  const body = markup`<main class="screen"><div class="screen-in">
${game.competition && markup`<p class="competition">${game.competition}</p>`}
${game.title && markup`<h1 class="title">${game.title}</h1>`}
<p class="state">${state}</p>
${kickOff(game, frame.zone, "page")}
<p class="sr">${`${home.name} ${home.score}, ${away.name} ${away.score}`}</p>
<div class="sides ${sizeClasses(game)}${summary ? " with-summary" : ""}" aria-hidden="true">
<div class="row"><p class="name">${home.name}</p><p class="mid"></p><p class="name">${away.name}</p></div>
<div class="row"><p class="score">${home.score}</p><p class="mid vs">&ndash;</p><p class="score">${away.score}</p></div>
${details}</div>
${summary}</div></main>
${stampBar(frame, markup`<a href="/">All games</a>`)}`;
  const title = `${gameTitle(game)}${game.title ? ` · ${game.title}` : ""}`;
  return kioskDocument(title, `page-game status-${game.status}`, frame, body);
}

/** A game that does not exist (yet): the kiosk keeps reloading until it does. */
export function renderWaitingPage(id: string, frame: Frame): string {
  const body = markup`<main class="screen"><div class="screen-in">
<p class="state"><span class="badge badge-waiting">Waiting</span></p>
<h1 class="waiting">Waiting for this game</h1>
<p class="waiting-id">${id}</p>
<p class="note">It is not on the scoreboard yet. This screen checks again every ${
    refreshWords(frame.refresh)
  } and shows the game as soon as it is created.</p>
</div></main>
${stampBar(frame, markup`<a href="/">All games</a>`)}`;
  return kioskDocument(`Waiting for ${id}`, "page-waiting", frame, body);
}

/**
 * The board's order: by status (what is being played, then what comes next, then what is over),
 * then by kick-off (games without one after those with), then by id.
 */
export function boardOrder(games: readonly Game[]): Game[] {
  return [...games].sort((a, b) =>
    BOARD_ORDER[a.status] - BOARD_ORDER[b.status] ||
    (a.startsAt ?? "~").localeCompare(b.startsAt ?? "~") ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * One page of the board: its games as cards (already in board order), each linking to the game's
 * own page. The grid is laid out for `per` games, sized so that a 1080p wall shows 12 legibly
 * from across a room; the header names the filter and says which page this is.
 */
export function renderBoardPage(games: readonly Game[], frame: Frame, paging: BoardPaging): string {
  const { cols, rows } = gridOf(paging.per);
  const content = games.length > 0
    ? markup`<div class="cards grid-c${cols} grid-r${rows}">${
      games.map((game) => linkedCard(game, frame))
    }</div>`
    : markup`<p class="empty">No games yet. This screen checks again every ${
      refreshWords(frame.refresh)
    } and shows games as soon as they are added.</p>`;
  const what = boardTitle(paging.scope);
  const pageNo = paging.pages > 1 &&
    markup`<p class="page-no"><span class="sr">Page </span>${paging.page} / ${paging.pages}</p>`;
  const body = markup`<header class="bar">${pageNo}<h1>Scores${
    what && markup` <span class="filter">${what}</span>`
  }</h1></header>
<main class="board">
${content}
</main>
${stampBar(frame, null)}`;
  const title = paging.pages > 1 ? `Scores ${paging.page}/${paging.pages}` : "Scores";
  return kioskDocument(what ? `${title} · ${what}` : title, "page-board", frame, body);
}

/** Columns and rows of a board page for `per` games on a landscape screen (12: 4 by 3). */
export function gridOf(per: number): { cols: number; rows: number } {
  const cols = Math.min(per, Math.ceil(Math.sqrt((per * 4) / 3)));
  return { cols, rows: Math.ceil(per / cols) };
}

function boardTitle(scope: Scope): string {
  if (scope.kind === "competition") return scope.id;
  if (scope.kind === "games") return `${scope.ids.length} game${scope.ids.length === 1 ? "" : "s"}`;
  return "";
}

/**
 * The page made for an iframe: the widget, with the game rendered inside it as ordinary markup.
 * The widget shows that markup until its live data arrives (then ticks the timer on the server's
 * time); without JavaScript it is all there is, kept fresh by a meta refresh that only applies
 * inside <noscript>, so pages with JavaScript never reload.
 */
export function renderEmbedPage(
  id: string,
  game: Game | undefined,
  frame: Frame & { theme: Theme; timeline?: boolean },
): string {
  const fallback = game
    ? card(game, frame)
    : markup`<p class="card card-waiting">Waiting for this game: ${id}</p>`;
  return htmlDocument({
    htmlClass: `embed theme-${frame.theme}`,
    title: game ? gameTitle(game) : `Waiting for ${id}`,
    refresh: { seconds: frame.refresh, noscript: true },
    stylesheet: frame.stylesheet,
    script: "/widget.js",
    // The widget shows the running timer by itself; `timeline` lists the game's events too.
    body: markup`<scoreline-game game="${id}"${
      frame.timeline ? trusted(" timeline") : ""
    }>${fallback}
<p class="stamp">As of ${stamp(frame)}</p></scoreline-game>`,
  });
}

/** An error as a page. With `refresh` (a server-side failure) the screen recovers by itself. */
export function renderErrorPage(
  status: number,
  title: string,
  detail: string,
  stylesheet: string | null,
  refresh?: number,
): string {
  return htmlDocument({
    htmlClass: "kiosk",
    bodyClass: "page-error",
    title: `${status} ${title}`,
    refresh: refresh ? { seconds: refresh } : undefined,
    stylesheet,
    body: markup`<main class="screen"><div class="screen-in">
<h1 class="waiting">${status} ${title}</h1>
<p class="note">${detail}</p>
<p class="note"><a href="/">All games</a></p>
</div></main>`,
  });
}

function kioskDocument(title: string, bodyClass: string, frame: Frame, body: SafeHtml): string {
  return htmlDocument({
    htmlClass: "kiosk",
    bodyClass,
    title: `${title} · Scoreline`,
    refresh: { seconds: frame.refresh, url: frame.refreshUrl ?? undefined },
    colorScheme: "dark",
    stylesheet: frame.stylesheet,
    body,
  });
}

/** What a page's document is made of besides its body. */
interface DocumentParts {
  htmlClass: string;
  bodyClass?: string;
  title: string;
  /**
   * A meta refresh, to `url` when given; inside <noscript> for a page whose script keeps it live
   * (the embed).
   */
  refresh?: { seconds: number; url?: string; noscript?: boolean };
  colorScheme?: string;
  stylesheet: string | null;
  /** A module script from this origin. */
  script?: string;
  body: SafeHtml;
}

/** The one document head of every page: charset, refresh, viewport, title, icon, styles, script. */
function htmlDocument(parts: DocumentParts): string {
  const { refresh } = parts;
  const content = refresh?.url ? `${refresh?.seconds}; url=${refresh.url}` : refresh?.seconds;
  const reload = refresh && markup`<meta http-equiv="refresh" content="${content}">`;
  const line = (part: SafeHtml | false | undefined | "" | null) => part && markup`${part}\n`;
  return markup`<!doctype html>
<html lang="en" class="${parts.htmlClass}">
<head>
<meta charset="utf-8">
${
    line(!refresh?.noscript && reload)
  }<meta name="viewport" content="width=device-width, initial-scale=1">
${line(refresh?.noscript && markup`<noscript>${reload}</noscript>`)}${
    line(parts.colorScheme && markup`<meta name="color-scheme" content="${parts.colorScheme}">`)
  }<title>${parts.title}</title>
<link rel="icon" href="${ICON}">
${line(parts.stylesheet && markup`<link rel="stylesheet" href="${parts.stylesheet}">`)}${
    line(parts.script && markup`<script type="module" src="${parts.script}"></script>`)
  }</head>
<body${parts.bodyClass && markup` class="${parts.bodyClass}"`}>
${parts.body}
</body>
</html>
`.text;
}

/**
 * Scores run from 0 to 1,000,000 and names to 64 characters: size classes keep the widest of
 * each inside its half of the screen (or its card), without JavaScript to measure them.
 */
function sizeClasses(game: Game): string {
  const digits = Math.max(String(game.home.score).length, String(game.away.score).length);
  const longest = Math.max(characterCount(game.home.name), characterCount(game.away.name));
  const size = digits <= 2 ? 2 : digits === 3 ? 3 : digits <= 5 ? 5 : 7;
  return longest > LONG_NAME ? `digits-${size} long-names` : `digits-${size}`;
}

/** What a card needs of its page: the time its timer is shown at, the zone of its kick-off. */
type CardFrame = Pick<Frame, "now" | "zone">;

const cards = new WeakMap<Game, Map<string, SafeHtml>>();

/**
 * A game's card, rendered once per stored game object (and time zone, which a kick-off time is
 * shown in): stores hand out the same object until the game changes, so the board re-renders
 * only the cards that changed.
 */
function linkedCard(game: Game, frame: CardFrame): SafeHtml {
  // A running timer's card reads differently each second: rendered with the page, never kept.
  if (game.timer?.running) return card(game, frame, `/games/${game.id}`);
  let byZone = cards.get(game);
  if (byZone === undefined) cards.set(game, byZone = new Map());
  const key = showsKickOff(game) ? frame.zone.id : "";
  let rendered = byZone.get(key);
  if (rendered === undefined) {
    rendered = card(game, frame, `/games/${game.id}`);
    byZone.set(key, rendered);
  }
  return rendered;
}

function card(game: Game, frame: CardFrame, href?: string): SafeHtml {
  const meta = [game.period, clockText(game, frame.now)].filter(Boolean).join(" · ");
  const last = lastScoring(game);
  const inner = markup`<span class="card-top">${
    badge(game.status)
  }<span class="card-title">${game.title}</span></span>${team(game.home)}${team(game.away)}${
    kickOff(game, frame.zone, "card")
  }${meta && markup`<span class="card-meta">${meta}</span>`}${
    last && markup`<span class="card-last">${last}</span>`
  }`;
  const classes = `card status-${game.status} ${sizeClasses(game)}${last ? " has-last" : ""}`;
  return href
    ? markup`<a href="${href}" class="${classes}">${inner}</a>`
    : markup`<div class="${classes}">${inner}</div>`;
}

/** What a game's clock reads: its timer's time now when it has a timer, else its clock text. */
function clockText(game: Game, now: number): string | undefined {
  const shown = timerMs(game, now);
  return shown === null ? game.clock : formatTimer(shown, game.timer?.direction);
}

/** Events that changed the score: what a scoring summary lists. */
type Scoring = NonNullable<Game["events"]>[number] & { side: "home" | "away"; points: number };

function scorings(game: Game): Scoring[] {
  return (game.events ?? []).filter((e): e is Scoring =>
    e.side !== undefined && e.points !== undefined
  );
}

/** Scoring events shown per side on a game's page: the latest, so the list fits a wall. */
const SUMMARY_PER_SIDE = 5;

/**
 * The scoring summary under the scores: each side's scoring events under its own score, oldest
 * first (as a match report reads), the latest few when there are many.
 */
function scoringSummary(game: Game): SafeHtml | null {
  const all = scorings(game);
  if (all.length === 0) return null;
  const direction = game.timer?.direction;
  const column = (side: "home" | "away") => {
    const mine = all.filter((e) => e.side === side);
    const shown = mine.slice(-SUMMARY_PER_SIDE);
    const earlier = mine.length - shown.length;
    return markup`<div class="scorers">${
      earlier > 0 && markup`<p class="earlier">${earlier} earlier</p>`
    }<ol aria-label="${game[side].name}">${
      shown.map((e) => markup`<li>${eventLine(e, direction)}</li>`)
    }</ol></div>`;
  };
  return markup`<section class="summary"><h2 class="sr">Scoring</h2>
<div class="summary-row">${column("home")}<div class="mid"></div>${column("away")}</div>
</section>`;
}

/** One line of a timeline: when (its clock, else the timer's time), what, and odd points. */
function eventLine(event: Scoring, direction: "up" | "down" | undefined): SafeHtml {
  const when = event.clock ??
    (event.elapsedMs === undefined ? undefined : formatTimer(event.elapsedMs, direction));
  const points = event.points === 1
    ? ""
    : ` (${event.points > 0 ? "+" : "−"}${Math.abs(event.points)})`;
  return markup`${when && markup`<span class="when">${when}</span> `}${
    event.text ?? event.kind
  }${points}`;
}

/** A card's last scoring event: whose, when and what. */
function lastScoring(game: Game): SafeHtml | null {
  const last = scorings(game).at(-1);
  if (!last) return null;
  return markup`Last: ${game[last.side].name} · ${eventLine(last, game.timer?.direction)}`;
}

function team(side: Side): SafeHtml {
  return markup`<span class="team"><span class="team-name">${side.name}${
    side.detail && markup`<span class="team-detail">${side.detail}</span>`
  }</span><span class="team-score">${side.score}</span></span>`;
}

/** Whether a game's card shows its kick-off: a scheduled game that has one. */
function showsKickOff(game: Game): boolean {
  return game.status === "scheduled" && game.startsAt !== undefined;
}

/**
 * "Kick-off Sat 7 Dec, 17:00 UTC" in the page's time zone, for a scheduled game that has one: a
 * paragraph on the game's page, a line of its card.
 */
function kickOff(game: Game, zone: Zone, on: "page" | "card"): SafeHtml | null {
  if (!showsKickOff(game)) return null;
  const startsAt = game.startsAt!;
  const time = markup`Kick-off <time datetime="${startsAt}">${
    zone.format(Date.parse(startsAt))
  }</time>`;
  return on === "page"
    ? markup`<p class="kickoff">${time}</p>`
    : markup`<span class="card-meta card-kickoff">${time}</span>`;
}

function badge(status: Status): SafeHtml {
  return markup`<span class="badge badge-${status}">${STATUS_LABELS[status]}</span>`;
}

function gameTitle(game: Game): string {
  return `${game.home.name} ${game.home.score}–${game.away.score} ${game.away.name}`;
}

function stampBar(frame: Frame, extra: SafeHtml | null): SafeHtml {
  return markup`<footer class="stamp-bar"><p class="stamp">As of ${
    stamp(frame)
  } · refreshes every ${refreshWords(frame.refresh)}${extra && markup` · ${extra}`}</p></footer>`;
}

/** The rendered-at stamp: a screen that stopped reloading shows an old time. */
function stamp(frame: Frame): SafeHtml {
  const iso = new Date(frame.renderedAt).toISOString().slice(0, 16) + "Z";
  return markup`<time datetime="${iso}">${frame.zone.format(frame.renderedAt)}</time>`;
}

/**
 * A refresh interval in words ("5 s", "2 min"): with the number itself in the meta refresh, the
 * only ways a page shows its refresh (kiosk_pages.ts renders a page once for every refresh).
 */
export function refreshWords(n: number): string {
  return n < 120 ? `${n} s` : `${Math.round(n / 60)} min`;
}
