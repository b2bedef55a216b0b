/**
 * The HTML of the screens, as pure functions of a game (or games) and a frame (refresh, stamp,
 * stylesheet). Every page is written with the `markup` template tag, which escapes whatever it is
 * given unless it is already markup, so data cannot become markup by a forgotten call. The markup
 * uses table cells and inline blocks so that old browsers lay it out too, with grid and min()
 * only as refinements in the stylesheet.
 */
import { characterCount, type Game, type Side, type Status } from "../core/schema.ts";
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
  zone: Zone;
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
  const state = [
    badge(game.status),
    game.period && markup` <span class="period">${game.period}</span>`,
    game.clock && markup` <span class="clock">${game.clock}</span>`,
  ];
  const details = (home.detail || away.detail) &&
    markup`<div class="row"><p class="detail">${home.detail}</p><p class="mid"></p><p class="detail">${away.detail}</p></div>`;
  const body = markup`<main class="screen"><div class="screen-in">
${game.title && markup`<h1 class="title">${game.title}</h1>`}
<p class="state">${state}</p>
<p class="sr">${`${home.name} ${home.score}, ${away.name} ${away.score}`}</p>
<div class="sides ${sizeClasses(game)}" aria-hidden="true">
<div class="row"><p class="name">${home.name}</p><p class="mid"></p><p class="name">${away.name}</p></div>
<div class="row"><p class="score">${home.score}</p><p class="mid vs">&ndash;</p><p class="score">${away.score}</p></div>
${details}</div>
</div></main>
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
 * Every game as a card in one grid, ordered by status (then id, as the store sorts them), so a
 * wall fits as many as it can; each card links to the game's own page.
 */
export function renderBoardPage(games: readonly Game[], frame: Frame): string {
  const ordered = [...games].sort((a, b) => BOARD_ORDER[a.status] - BOARD_ORDER[b.status]);
  const content = games.length > 0
    ? markup`<div class="cards">${ordered.map(linkedCard)}</div>`
    : markup`<p class="empty">No games yet. This screen checks again every ${
      refreshWords(frame.refresh)
    } and shows games as soon as they are added.</p>`;
  const body = markup`<header class="bar"><h1>Scores</h1></header>
<main class="board">
${content}
</main>
${stampBar(frame, null)}`;
  return kioskDocument("Scores", "page-board", frame, body);
}

/**
 * The page made for an iframe: the widget, with the game rendered inside it as ordinary markup.
 * The widget shows that markup until its live data arrives; without JavaScript it is all there
 * is, kept fresh by a meta refresh that only applies inside <noscript>, so pages with JavaScript
 * never reload.
 */
export function renderEmbedPage(
  id: string,
  game: Game | undefined,
  frame: Frame & { theme: Theme },
): string {
  const fallback = game
    ? card(game)
    : markup`<p class="card card-waiting">Waiting for this game: ${id}</p>`;
  return htmlDocument({
    htmlClass: `embed theme-${frame.theme}`,
    title: game ? gameTitle(game) : `Waiting for ${id}`,
    refresh: { seconds: frame.refresh, noscript: true },
    stylesheet: frame.stylesheet,
    script: "/widget.js",
    body: markup`<scoreline-game game="${id}">${fallback}
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
    refresh: { seconds: frame.refresh },
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
  /** A meta refresh; inside <noscript> for a page whose script keeps it live (the embed). */
  refresh?: { seconds: number; noscript?: boolean };
  colorScheme?: string;
  stylesheet: string | null;
  /** A module script from this origin. */
  script?: string;
  body: SafeHtml;
}

/** The one document head of every page: charset, refresh, viewport, title, icon, styles, script. */
function htmlDocument(parts: DocumentParts): string {
  const { refresh } = parts;
  const reload = refresh && markup`<meta http-equiv="refresh" content="${refresh.seconds}">`;
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

const cards = new WeakMap<Game, SafeHtml>();

/**
 * A game's card, rendered once per stored game object: stores hand out the same object until
 * the game changes, so the board re-renders only the cards that changed.
 */
function linkedCard(game: Game): SafeHtml {
  let rendered = cards.get(game);
  if (rendered === undefined) {
    rendered = card(game, `/games/${game.id}`);
    cards.set(game, rendered);
  }
  return rendered;
}

function card(game: Game, href?: string): SafeHtml {
  const meta = [game.period, game.clock].filter(Boolean).join(" · ");
  const inner = markup`<span class="card-top">${
    badge(game.status)
  }<span class="card-title">${game.title}</span></span>${team(game.home)}${team(game.away)}${
    meta && markup`<span class="card-meta">${meta}</span>`
  }`;
  const classes = `card status-${game.status} ${sizeClasses(game)}`;
  return href
    ? markup`<a href="${href}" class="${classes}">${inner}</a>`
    : markup`<div class="${classes}">${inner}</div>`;
}

function team(side: Side): SafeHtml {
  return markup`<span class="team"><span class="team-name">${side.name}${
    side.detail && markup`<span class="team-detail">${side.detail}</span>`
  }</span><span class="team-score">${side.score}</span></span>`;
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
