/**
 * The HTML of the screens, as pure functions of a game (or games) and a frame (refresh, stamp,
 * stylesheet). Every piece of data goes through escapeHtml; the markup uses table cells and
 * inline blocks so that old browsers lay it out too, with grid and min() only as refinements
 * in the stylesheet.
 */
import { characterCount, type Game, type Side, type Status } from "../core/schema.ts";
import { escapeHtml } from "../http/html.ts";
import type { Theme, Zone } from "./page_params.ts";

const STATUS_LABELS: Record<Status, string> = {
  scheduled: "Scheduled",
  live: "Live",
  break: "Break",
  final: "Final",
  postponed: "Postponed",
  cancelled: "Cancelled",
};

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

const ICON = "data:image/svg+xml," +
  encodeURIComponent(
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' " +
      "rx='3' fill='#d4151f'/><path d='M4 5h3v6H4zM9 5h3v6H9z' fill='#fff'/></svg>",
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
    game.period ? `<span class="period">${escapeHtml(game.period)}</span>` : "",
    game.clock ? `<span class="clock">${escapeHtml(game.clock)}</span>` : "",
  ].filter(Boolean).join(" ");
  const details = home.detail || away.detail
    ? `<div class="row"><p class="detail">${escapeHtml(home.detail ?? "")}</p><p class="mid"></p>` +
      `<p class="detail">${escapeHtml(away.detail ?? "")}</p></div>`
    : "";
  const body = `<main class="screen"><div class="screen-in">
${game.title ? `<h1 class="title">${escapeHtml(game.title)}</h1>` : ""}
<p class="state">${state}</p>
<p class="sr">${escapeHtml(`${home.name} ${home.score}, ${away.name} ${away.score}`)}</p>
<div class="sides ${sizeClasses(game)}" aria-hidden="true">
<div class="row"><p class="name">${escapeHtml(home.name)}</p><p class="mid"></p><p class="name">${
    escapeHtml(away.name)
  }</p></div>
<div class="row"><p class="score">${home.score}</p><p class="mid vs">&ndash;</p><p class="score">${away.score}</p></div>
${details}</div>
</div></main>
${stampBar(frame, `<a href="/">All games</a>`)}`;
  const title = `${gameTitle(game)}${game.title ? ` \u00b7 ${game.title}` : ""}`;
  return kioskDocument(title, `page-game status-${game.status}`, frame, body);
}

/** A game that does not exist (yet): the kiosk keeps reloading until it does. */
export function renderWaitingPage(id: string, frame: Frame): string {
  const body = `<main class="screen"><div class="screen-in">
<p class="state"><span class="badge badge-waiting">Waiting</span></p>
<h1 class="waiting">Waiting for this game</h1>
<p class="waiting-id">${escapeHtml(id)}</p>
<p class="note">It is not on the scoreboard yet. This screen checks again every ${
    seconds(frame.refresh)
  } and shows the game as soon as it is created.</p>
</div></main>
${stampBar(frame, `<a href="/">All games</a>`)}`;
  return kioskDocument(`Waiting for ${id}`, "page-waiting", frame, body);
}

/**
 * Every game as a card in one grid, ordered by status (then id, as the store sorts them), so a
 * wall fits as many as it can; each card links to the game's own page.
 */
export function renderBoardPage(games: readonly Game[], frame: Frame): string {
  const ordered = [...games].sort((a, b) => BOARD_ORDER[a.status] - BOARD_ORDER[b.status]);
  const content = games.length > 0
    ? `<div class="cards">${ordered.map(linkedCard).join("")}</div>`
    : `<p class="empty">No games yet. This screen checks again every ${
      seconds(frame.refresh)
    } and shows games as soon as they are added.</p>`;
  const body = `<header class="bar"><h1>Scores</h1></header>
<main class="board">
${content}
</main>
${stampBar(frame, "")}`;
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
    : `<p class="card card-waiting">Waiting for this game: ${escapeHtml(id)}</p>`;
  return `<!doctype html>
<html lang="en" class="embed theme-${frame.theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="${frame.refresh}"></noscript>
<title>${escapeHtml(game ? gameTitle(game) : `Waiting for ${id}`)}</title>
<link rel="icon" href="${ICON}">
<link rel="stylesheet" href="${escapeHtml(frame.stylesheet)}">
<script type="module" src="/widget.js"></script>
</head>
<body>
<scoreline-game game="${escapeHtml(id)}">${fallback}
<p class="stamp">As of ${stamp(frame)}</p></scoreline-game>
</body>
</html>
`;
}

/** An error as a page. With `refresh` (a server-side failure) the screen recovers by itself. */
export function renderErrorPage(
  status: number,
  title: string,
  detail: string,
  stylesheet: string | null,
  refresh?: number,
): string {
  const meta = refresh ? `\n<meta http-equiv="refresh" content="${refresh}">` : "";
  const link = stylesheet ? `\n<link rel="stylesheet" href="${escapeHtml(stylesheet)}">` : "";
  return `<!doctype html>
<html lang="en" class="kiosk">
<head>
<meta charset="utf-8">${meta}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${status} ${escapeHtml(title)}</title>
<link rel="icon" href="${ICON}">${link}
</head>
<body class="page-error">
<main class="screen"><div class="screen-in">
<h1 class="waiting">${status} ${escapeHtml(title)}</h1>
<p class="note">${escapeHtml(detail)}</p>
<p class="note"><a href="/">All games</a></p>
</div></main>
</body>
</html>
`;
}

function kioskDocument(title: string, bodyClass: string, frame: Frame, body: string): string {
  return `<!doctype html>
<html lang="en" class="kiosk">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${frame.refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>${escapeHtml(title)} \u00b7 Scoreline</title>
<link rel="icon" href="${ICON}">
<link rel="stylesheet" href="${escapeHtml(frame.stylesheet)}">
</head>
<body class="${bodyClass}">
${body}
</body>
</html>
`;
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

const cards = new WeakMap<Game, string>();

/**
 * A game's card, rendered once per stored game object: stores hand out the same object until
 * the game changes, so the board re-renders only the cards that changed.
 */
function linkedCard(game: Game): string {
  let html = cards.get(game);
  if (html === undefined) {
    html = card(game, `/games/${game.id}`);
    cards.set(game, html);
  }
  return html;
}

function card(game: Game, href?: string): string {
  const meta = [game.period, game.clock].filter(Boolean).map((s) => escapeHtml(s!)).join(
    " \u00b7 ",
  );
  const inner = `<span class="card-top">${badge(game.status)}<span class="card-title">${
    escapeHtml(game.title ?? "")
  }</span></span>${team(game.home)}${team(game.away)}${
    meta ? `<span class="card-meta">${meta}</span>` : ""
  }`;
  const tag = href ? `a href="${escapeHtml(href)}"` : "div";
  return `<${tag} class="card status-${game.status} ${sizeClasses(game)}">${inner}</${
    href ? "a" : "div"
  }>`;
}

function team(side: Side): string {
  const detail = side.detail ? `<span class="team-detail">${escapeHtml(side.detail)}</span>` : "";
  return `<span class="team"><span class="team-name">${escapeHtml(side.name)}${detail}</span>` +
    `<span class="team-score">${side.score}</span></span>`;
}

function badge(status: Status): string {
  return `<span class="badge badge-${status}">${STATUS_LABELS[status]}</span>`;
}

function gameTitle(game: Game): string {
  return `${game.home.name} ${game.home.score}\u2013${game.away.score} ${game.away.name}`;
}

function stampBar(frame: Frame, extra: string): string {
  return `<footer class="stamp-bar"><p class="stamp">As of ${stamp(frame)} \u00b7 refreshes every ${
    seconds(frame.refresh)
  }${extra ? ` \u00b7 ${extra}` : ""}</p></footer>`;
}

/** The rendered-at stamp: a screen that stopped reloading shows an old time. */
function stamp(frame: Frame): string {
  const iso = new Date(frame.renderedAt).toISOString().slice(0, 16) + "Z";
  return `<time datetime="${iso}">${escapeHtml(frame.zone.format(frame.renderedAt))}</time>`;
}

function seconds(n: number): string {
  return n < 120 ? `${n} s` : `${Math.round(n / 60)} min`;
}
