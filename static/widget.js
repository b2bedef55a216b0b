/**
 * Scoreline widgets: a live score anywhere, as one element.
 *
 *   <script type="module" src="https://scores.example/widget.js"></script>
 *   <scoreline-game game="cup-final" timeline viewers></scoreline-game>
 *   <scoreline-board competition="premier-2026"></scoreline-board>
 *
 * `server` (an origin) defaults to the origin this script was loaded from. No build step: this
 * file is what browsers run. Every text from the server is set with textContent, never parsed as
 * HTML, so a team called "<img onerror=...>" is only a name.
 *
 * Connections are the client library's (`./client.js`, the service's /client.js beside this
 * file): WebSocket, then SSE, then long polling, resumed by cursor, deltas applied, the server's
 * clock tracked. There is no second copy of that logic here. What this file adds is sharing:
 * browsers allow 6 HTTP/1.1 connections per origin, so elements never open one each. Every
 * element of one server (games, and boards given `games=`) shares one watch scoped with `games=`
 * to exactly the games shown; a board of a competition shares one per competition.
 */

import { timerMs, watch } from "./client.js";
// The status words the kiosk pages use too (one list, served as /static/labels.js).
import { STATUS_LABELS } from "./static/labels.js";

const TAG = "scoreline-game";
const BOARD_TAG = "scoreline-board";
const GAME_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;
/** The most games one `games=` feed may name (the service refuses more). */
const MAX_GAMES = 100;
/**
 * A planned reconnect (a rescope, a fall back to the next transport) is not worth a "not live"
 * sign unless it takes longer than this; a refusal or a drop shows it at once.
 */
const STALE_GRACE_MS = 1500;
/** A watch refused for good (a 4xx from a misconfigured proxy, say) is started again after this. */
const REVIVE_MS = 60_000;

const CSS = `
:host {
  display: block;
  font-family: var(--scoreline-font, system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans",
    Arial, sans-serif);
  color: var(--scoreline-color, #14171c);
  line-height: 1.25;
}
:host([hidden]), [hidden] { display: none !important; }
.card, .message {
  box-sizing: border-box;
  background: var(--scoreline-background, #fff);
  border: var(--scoreline-border, 1px solid #d5d9e0);
  border-radius: var(--scoreline-radius, 12px);
  padding: var(--scoreline-padding, 0.75em 1em 0.8em);
}
.message { margin: 0; color: var(--scoreline-muted, #545b66); }
.top { display: flex; align-items: center; gap: 0.6em; margin-bottom: 0.45em; font-size: 0.8em; }
.title {
  flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  color: var(--scoreline-muted, #545b66); font-weight: 600;
}
.badge {
  flex: none; margin-left: auto; padding: 0.1em 0.6em 0.14em; border-radius: 999px;
  border: 1.5px solid currentColor; color: var(--scoreline-muted, #545b66);
  font-size: 0.85em; font-weight: 700; letter-spacing: 0.06em; text-transform: uppercase;
  white-space: nowrap;
}
.badge.live {
  background: var(--scoreline-live, #c8141d); border-color: transparent;
  color: var(--scoreline-live-color, #fff);
}
.badge.live::before {
  content: ""; display: inline-block; width: 0.5em; height: 0.5em; margin-right: 0.35em;
  border-radius: 50%; background: currentColor; vertical-align: 0.06em;
}
.badge.break {
  background: var(--scoreline-break, #ffb81c); border-color: transparent; color: #111;
}
.team { display: flex; align-items: center; gap: 0.75em; padding: 0.1em 0; }
.who { flex: 1; min-width: 0; }
.name { display: block; font-size: 1.1em; font-weight: 650; overflow-wrap: anywhere; }
.detail { display: block; font-size: 0.75em; color: var(--scoreline-muted, #545b66); }
.score {
  flex: none; min-width: 1.3em; padding: 0 0.15em; border-radius: 0.2em; text-align: right;
  font-size: var(--scoreline-score-size, 1.6em); font-weight: 800; line-height: 1.15;
  font-variant-numeric: tabular-nums;
}
.bottom {
  display: flex; flex-wrap: wrap; gap: 0.3em 0.75em; margin-top: 0.35em; font-size: 0.8em;
  color: var(--scoreline-muted, #545b66);
}
.clock { font-variant-numeric: tabular-nums; }
.period:not([hidden]) + .clock::before { content: " \\00b7  "; }
.viewers { white-space: nowrap; }
.conn {
  margin-left: auto; font-weight: 700; white-space: nowrap;
  color: var(--scoreline-stale, #a14b00);
}
.conn::before {
  content: ""; display: inline-block; width: 0.55em; height: 0.55em; margin-right: 0.35em;
  border-radius: 50%; border: 2px solid currentColor; box-sizing: border-box;
}
.stale .team, .stale .rows { opacity: 0.6; }
.timeline {
  list-style: none; margin: 0.5em 0 0; padding: 0.4em 0 0; font-size: 0.8em;
  border-top: var(--scoreline-border, 1px solid #d5d9e0);
  max-height: var(--scoreline-timeline-height, 10em); overflow-y: auto;
}
.timeline li { display: flex; gap: 0.5em; padding: 0.1em 0; }
.timeline .when {
  flex: none; min-width: 3.2em; font-variant-numeric: tabular-nums;
  color: var(--scoreline-muted, #545b66);
}
.timeline .kind { flex: none; color: var(--scoreline-muted, #545b66); }
.timeline .side { flex: none; font-weight: 650; }
.timeline .text { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.changed { animation: scoreline-flash 1.5s ease-out; }
@keyframes scoreline-flash {
  from { background: var(--scoreline-highlight, #ffe08a); }
  to { background: transparent; }
}
@media (prefers-reduced-motion: reduce) { .changed { animation: none; } }
.sr {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0;
}
.rows { list-style: none; margin: 0; padding: 0; }
.row {
  display: grid; align-items: center; gap: 0 0.6em; padding: 0.35em 0;
  grid-template-columns: minmax(0, 1fr) auto auto auto minmax(0, 1fr);
  grid-template-areas: "state state state state state" "home hs dash as away";
}
.row + .row { border-top: var(--scoreline-border, 1px solid #d5d9e0); }
.row .state {
  grid-area: state; display: flex; align-items: center; gap: 0.6em; font-size: 0.75em;
  color: var(--scoreline-muted, #545b66);
}
.row .state .badge { margin-left: 0; }
.row .home { grid-area: home; text-align: right; }
.row .away { grid-area: away; }
.row .home, .row .away { font-weight: 650; overflow-wrap: anywhere; }
.row .hs { grid-area: hs; }
.row .as { grid-area: as; text-align: left; }
.row .dash { grid-area: dash; color: var(--scoreline-muted, #545b66); }
.row .score { font-size: var(--scoreline-board-score-size, 1.25em); min-width: 1em; }
.caption {
  margin: 0 0 0.4em; font-size: 0.8em; font-weight: 600; color: var(--scoreline-muted, #545b66);
}
`;

// ---- formatting ---------------------------------------------------------------------------

/**
 * A timer as a scoreboard reads it: whole seconds gone counting up, whole seconds left (rounded
 * up) counting down, as the kiosk pages do; `mm:ss` with the minutes uncapped below 100 (a
 * football clock reads 93:12), `h:mm:ss` from 100 minutes on.
 */
function formatTimer(ms, direction = "up") {
  const total = direction === "down" ? Math.ceil(ms / 1000) : Math.floor(ms / 1000);
  const seconds = Math.max(0, total);
  const pad = (n) => String(n).padStart(2, "0");
  if (seconds < 100 * 60) return `${pad(Math.floor(seconds / 60))}:${pad(seconds % 60)}`;
  const hours = Math.floor(seconds / 3600);
  return `${hours}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/** Milliseconds until a timer shown at `ms` reads differently (it ticks on whole seconds). */
function untilNextSecond(ms, direction) {
  if (direction === "down") return ((ms % 1000) + 1000) % 1000 || 1000;
  return 1000 - (((ms % 1000) + 1000) % 1000);
}

/** What a game's clock reads now: its timer (at server time `now`), else its `clock` string. */
function clockText(game, now) {
  const shown = timerMs(game, now);
  if (shown === null) return typeof game.clock === "string" ? game.clock : "";
  return formatTimer(shown, game.timer.direction);
}

/** "Kick-off 19:45" (or with the day when not today), in the page's own time zone. */
function kickOff(game) {
  if (game.status !== "scheduled" || typeof game.startsAt !== "string") return "";
  const at = new Date(game.startsAt);
  if (Number.isNaN(at.getTime())) return "";
  const today = new Date().toDateString() === at.toDateString();
  const options = today
    ? { hour: "2-digit", minute: "2-digit" }
    : { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  return `Kick-off ${at.toLocaleString(undefined, options)}`;
}

function statusLabel(status) {
  return Object.hasOwn(STATUS_LABELS, status) ? STATUS_LABELS[status] : String(status ?? "");
}

function setBadge(node, status) {
  const known = Object.hasOwn(STATUS_LABELS, status) ? status : "";
  node.textContent = statusLabel(status);
  node.className = known ? `badge ${known}` : "badge";
}

/** The line a screen reader hears for a game: "Lions 2, Tigers 1". */
function scoreLine(game) {
  return `${game.home?.name} ${game.home?.score}, ${game.away?.name} ${game.away?.score}`;
}

/**
 * The announcement for a change from `before` to `game` (null: nothing to announce): a score or
 * a status that changed, never a tick of the clock.
 */
function announcement(before, game) {
  if (!before || before.id !== game.id) return null;
  const scored = before.home?.score !== game.home?.score ||
    before.away?.score !== game.away?.score;
  const statusChanged = before.status !== game.status;
  if (!scored && !statusChanged) return null;
  return statusChanged ? `${statusLabel(game.status)}: ${scoreLine(game)}` : scoreLine(game);
}

function flash(node) {
  node.classList.remove("changed");
  void node.offsetWidth; // restart the animation when two goals come in quick succession
  node.classList.add("changed");
}

// ---- one ticker for every clock on the page -----------------------------------------------

/**
 * Clocks showing a running timer, each `{ tick(), nextIn() }`. One timer for all of them, set for
 * the soonest moment one of them reads differently, so a page of twenty games wakes up about
 * once a second, not twenty times, and no clock lags its second.
 */
const clocks = new Set();
let tickTimer = 0;

function scheduleTick() {
  clearTimeout(tickTimer);
  tickTimer = 0;
  let soonest = Infinity;
  for (const clock of clocks) soonest = Math.min(soonest, clock.nextIn());
  if (soonest === Infinity) return;
  tickTimer = setTimeout(() => {
    for (const clock of [...clocks]) clock.tick();
    scheduleTick();
  }, Math.max(20, soonest + 5));
}

function runClock(clock, running) {
  const had = clocks.has(clock);
  if (running) clocks.add(clock);
  else clocks.delete(clock);
  if (running !== had || running) scheduleTick();
}

// ---- feeds: one watch shared by the elements of a server --------------------------------------

/** Feeds by key: `origin` (games) or `origin competition:id`. */
const feeds = new Map();

/** The feed of `origin` for games (null competition) or for a competition. */
function feedFor(origin, competition = null) {
  const key = competition === null ? origin : `${origin} competition:${competition}`;
  let feed = feeds.get(key);
  if (!feed) {
    feed = new Feed(key, origin, competition);
    feeds.set(key, feed);
  }
  return feed;
}

/**
 * One client-library watch and the elements it serves. Its scope is the union of the games its
 * elements show (or its competition). Elements arrive in bursts (a page's markup, a list
 * re-rendered, an element moved): the scope is settled once the burst is over, so a page of ten
 * widgets opens one connection, not ten in turn. A changed scope is `setScope` on the same
 * watch: what is shown stays until the new scope's snapshot, the state of every game in it, so no
 * update is lost on the way.
 */
class Feed {
  constructor(key, origin, competition) {
    this.key = key;
    this.origin = origin;
    this.competition = competition;
    /** Element → `{ ids: string[], viewers: boolean }`. */
    this.members = new Map();
    this.handle = null;
    this.handleViewers = false;
    /** True once the current scope's first answer came: it says which games exist. */
    this.synced = false;
    this.stale = false;
    this.failed = false;
    this.queued = false;
    this.staleTimer = 0;
    this.reviveTimer = 0;
  }

  add(member, ids, viewers) {
    this.members.set(member, { ids, viewers });
    // Games the watch does not follow yet: until the rescope's snapshot, nobody can say they do
    // not exist ("waiting for this game" would be a guess).
    const scope = this.handle?.scope.games ?? [];
    if (this.competition === null && ids.some((id) => !scope.includes(id))) this.synced = false;
    this.queueReconcile();
  }

  remove(member) {
    this.members.delete(member);
    this.queueReconcile();
  }

  /** The game with this id, as last received (undefined while unknown). */
  game(id) {
    return this.handle?.games.get(id);
  }

  get games() {
    return this.handle?.games ?? new Map();
  }

  viewers(id) {
    return this.handle?.viewers.get(id);
  }

  now() {
    return this.handle ? this.handle.now() : Date.now();
  }

  /** The games this feed follows, when its elements name games (at most MAX_GAMES). */
  wanted() {
    const ids = new Set();
    for (const { ids: shown } of this.members.values()) for (const id of shown) ids.add(id);
    return [...ids].sort().slice(0, MAX_GAMES);
  }

  /** Whether `id` is in this feed's scope (a game past MAX_GAMES on one server is not). */
  covers(id) {
    return this.competition !== null || this.wanted().includes(id);
  }

  queueReconcile() {
    if (this.queued) return;
    this.queued = true;
    setTimeout(() => {
      this.queued = false;
      this.reconcile();
    }, 0);
  }

  reconcile() {
    if (this.members.size === 0) {
      this.close();
      if (feeds.get(this.key) === this) feeds.delete(this.key);
      return;
    }
    const scope = this.competition === null
      ? { games: this.wanted() }
      : { competition: this.competition };
    if (this.competition === null && scope.games.length === 0) return;
    const viewers = [...this.members.values()].some((m) => m.viewers);
    if (this.handle && viewers && !this.handleViewers) this.close();
    if (!this.handle) return this.open(scope, viewers);
    const current = this.handle.scope;
    if (
      String(current.games) === String(scope.games) && current.competition === scope.competition
    ) {
      return;
    }
    this.synced = false;
    this.handle.setScope(scope);
    this.notifyAll();
  }

  open(scope, viewers) {
    clearTimeout(this.reviveTimer);
    this.synced = false;
    this.failed = false;
    this.handleViewers = viewers;
    const handle = watch({ server: this.origin, transport: "auto", viewers, ...scope });
    this.handle = handle;
    handle.addEventListener("change", () => {
      if (this.handle !== handle) return;
      this.synced = true;
      this.notifyAll();
    });
    handle.addEventListener("viewers", () => {
      if (this.handle === handle) this.notifyAll();
    });
    // The first ping of a connection corrects a clock drawn on the device's own time.
    handle.addEventListener("time", () => {
      if (this.handle === handle) this.notifyAll();
    });
    handle.addEventListener("status", ({ detail }) => {
      if (this.handle === handle) this.onStatus(detail);
    });
  }

  close() {
    clearTimeout(this.staleTimer);
    clearTimeout(this.reviveTimer);
    this.staleTimer = 0;
    const handle = this.handle;
    this.handle = null;
    void handle?.close();
  }

  /**
   * The sign: not live once the watch is refused or dropped (waiting out a back-off, a 429's
   * Retry-After, a proxy's 502 during a restart), or still not live after a short grace.
   */
  onStatus(status) {
    clearTimeout(this.staleTimer);
    this.staleTimer = 0;
    if (status.state === "failed") {
      // Refused for good (a 4xx a retry cannot fix): try again much later, in case a proxy is
      // fixed; the elements say they are not live meanwhile.
      this.failed = true;
      this.setStale(true);
      this.reviveTimer = setTimeout(() => {
        this.close();
        this.queueReconcile();
      }, REVIVE_MS * (1 + Math.random()));
      return;
    }
    if (status.connected) return this.setStale(false);
    if (status.state === "retrying") return this.setStale(true);
    if (status.state === "connecting" && !this.stale) {
      this.staleTimer = setTimeout(() => this.setStale(true), STALE_GRACE_MS);
    }
  }

  setStale(stale) {
    if (this.stale === stale) return;
    this.stale = stale;
    this.notifyAll();
  }

  notifyAll() {
    for (const member of [...this.members.keys()]) member.update(this);
  }
}

/** The origin of a `server` attribute (null: not an http(s) URL). */
function originOf(server) {
  try {
    const url = new URL(server ?? SCRIPT_ORIGIN);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}

// ---- shadow DOM helpers --------------------------------------------------------------------

let sharedSheet = null;

/** One parsed stylesheet for every element; a <style> where constructable sheets are missing. */
function adoptStyles(root) {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet.prototype.replaceSync === "function") {
    if (!sharedSheet) {
      sharedSheet = new CSSStyleSheet();
      sharedSheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sharedSheet];
  } else {
    const style = document.createElement("style");
    style.textContent = CSS;
    root.append(style);
  }
}

function element(tag, className, part) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (part) node.setAttribute("part", part);
  return node;
}

function sideElements(which) {
  const row = element("div", `team ${which}`, `team ${which}`);
  const who = element("span", "who");
  const name = element("span", "name", "name");
  const detail = element("span", "detail", "detail");
  const score = element("span", "score", "score");
  who.append(name, detail);
  row.append(who, score);
  return { row, name, detail, score };
}

/** The "not live" sign both elements show while their feed is not live. */
function staleSign() {
  const conn = element("span", "conn", "stale");
  conn.textContent = "Not live \u00b7 reconnecting\u2026";
  conn.hidden = true;
  return conn;
}

/** A polite live region: score and status changes are read out from here, never clock ticks. */
function liveRegion() {
  const live = element("div", "sr");
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-atomic", "true");
  return live;
}

// ---- what both elements share ----------------------------------------------------------------

/** Shows `text` in place of an element's content: a bad attribute, a feed that cannot serve it. */
function showProblem({ card, message, slot }, text) {
  card.hidden = true;
  slot.hidden = true;
  message.hidden = false;
  message.textContent = text;
}

/**
 * An element that follows a feed while it is in the document: `attach()` registers it with the
 * feed its attributes name (switching over when one changes), `detach()` lets go of it.
 */
class FeedElement extends HTMLElement {
  /**
   * Builds the shadow root both elements have: their `card` (hidden until live data arrives), the
   * message shown instead of it, the slot and the polite live region.
   */
  mount(card) {
    const root = this.attachShadow({ mode: "open" });
    adoptStyles(root);
    const message = element("p", "message", "message");
    // Whatever the page put inside the element shows until live data arrives (and is all there
    // is without JavaScript): the embed page renders the game there on the server.
    const slot = element("slot");
    const live = liveRegion();
    card.hidden = true;
    message.hidden = true;
    root.append(card, message, slot, live);
    return { message, slot, live };
  }

  connectedCallback() {
    this.attach();
  }

  disconnectedCallback() {
    this.detach();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.attach();
  }
}

// ---- <scoreline-game> ----------------------------------------------------------------------

class ScorelineGame extends FeedElement {
  static get observedAttributes() {
    return ["game", "server", "timeline", "viewers"];
  }

  #parts;
  /** The feed and game this element is registered with. */
  #attached = null;
  /** The game last rendered, to tell a change (announced) from a first render (not announced). */
  #shown = null;
  #clock;

  constructor() {
    super();
    const card = element("div", "card", "card");
    const top = element("div", "top");
    const title = element("span", "title", "title");
    const badge = element("span", "badge", "status");
    top.append(title, badge);
    const home = sideElements("home");
    const away = sideElements("away");
    const bottom = element("div", "bottom", "footer");
    const meta = element("span", "meta");
    const period = element("span", "period", "period");
    // role=timer: assistive technology does not read its every change (it is not live).
    const clock = element("span", "clock", "clock");
    clock.setAttribute("role", "timer");
    meta.append(period, clock);
    const viewers = element("span", "viewers", "viewers");
    const conn = staleSign();
    bottom.append(meta, viewers, conn);
    const timeline = element("ol", "timeline", "timeline");
    timeline.setAttribute("aria-label", "Timeline");
    card.append(top, home.row, away.row, bottom, timeline);
    const { message, slot, live } = this.mount(card);
    this.#parts = {
      card,
      title,
      badge,
      home,
      away,
      bottom,
      period,
      clock,
      viewers,
      conn,
      timeline,
      message,
      slot,
      live,
    };
    this.#clock = { tick: () => this.#tick(), nextIn: () => this.#nextTickIn() };
  }

  attach() {
    const id = this.getAttribute("game") ?? "";
    const server = this.getAttribute("server");
    const origin = originOf(server);
    const viewers = this.hasAttribute("viewers");
    const attached = this.#attached;
    if (
      attached && attached.id === id && attached.feed.origin === origin &&
      attached.viewers === viewers
    ) {
      // Only `timeline` changed: its list is drawn (or cleared) from the game shown.
      if (this.#shown) this.#renderTimeline(this.#shown);
      return;
    }
    this.detach();
    if (!GAME_ID.test(id)) {
      showProblem(this.#parts, `No game to show: set game="…" to a game id (got "${id}").`);
    } else if (origin === null) {
      showProblem(
        this.#parts,
        `server="${server}" is not an http(s) origin like https://scores.example.`,
      );
    } else {
      const feed = feedFor(origin);
      this.#attached = { id, feed, viewers };
      feed.add(this, [id], viewers);
      this.update(feed);
    }
  }

  detach() {
    this.#attached?.feed.remove(this);
    this.#attached = null;
    this.#shown = null;
    runClock(this.#clock, false);
  }

  /** Called by the feed on every change of its games or its state. */
  update(feed) {
    if (this.#attached?.feed !== feed) return;
    const { id } = this.#attached;
    const { card, message, slot, conn } = this.#parts;
    const game = feed.game(id);
    if (game) {
      this.#render(game, feed);
      card.classList.toggle("stale", feed.stale);
      conn.hidden = !feed.stale;
      this.#footer();
      card.hidden = false;
      message.hidden = true;
      slot.hidden = true;
      return;
    }
    card.hidden = true;
    this.#shown = null;
    runClock(this.#clock, false);
    const fallback = [...this.childNodes].some((node) =>
      node.nodeType === Node.ELEMENT_NODE || node.textContent.trim() !== ""
    );
    if (!feed.covers(id)) {
      message.textContent = `Not shown: at most ${MAX_GAMES} games per server on one page.`;
    } else if (feed.synced && !feed.stale) {
      message.textContent = "Waiting for this game\u2026";
    } else if (fallback && !feed.synced) {
      message.hidden = true;
      slot.hidden = false;
      return;
    } else {
      message.textContent = feed.stale
        ? "Not live \u00b7 reconnecting\u2026"
        : feed.synced
        ? "Reconnecting\u2026"
        : "Connecting\u2026";
    }
    message.hidden = false;
    slot.hidden = true;
  }

  #render(game, feed) {
    const parts = this.#parts;
    const before = this.#shown;
    if (before !== game) {
      const title = typeof game.title === "string" ? game.title : "";
      parts.title.textContent = title;
      parts.title.hidden = title === "";
      setBadge(parts.badge, game.status);
      for (const which of ["home", "away"]) {
        const side = game[which] ?? {};
        const view = parts[which];
        view.name.textContent = String(side.name ?? "");
        view.detail.textContent = typeof side.detail === "string" ? side.detail : "";
        view.detail.hidden = view.detail.textContent === "";
        view.score.textContent = String(side.score ?? "");
      }
      parts.period.textContent = typeof game.period === "string" ? game.period : "";
      this.#renderTimeline(game);
      this.#announce(before, game);
      this.#shown = game;
    }
    this.#tick();
    runClock(this.#clock, game.timer?.running === true);
    const count = this.#attached.viewers ? feed.viewers(game.id) : undefined;
    parts.viewers.textContent = typeof count === "number" ? `${count} watching` : "";
  }

  /** The clock's text at the server's time now (a timer), or the game's `clock` string. */
  #tick() {
    const game = this.#shown;
    const feed = this.#attached?.feed;
    if (!game || !feed) return;
    const text = clockText(game, feed.now()) || kickOff(game);
    const { clock } = this.#parts;
    if (clock.textContent !== text) clock.textContent = text;
    clock.hidden = text === "";
    this.#footer();
  }

  #nextTickIn() {
    const game = this.#shown;
    const feed = this.#attached?.feed;
    if (!game?.timer?.running || !feed) return Infinity;
    return untilNextSecond(timerMs(game, feed.now()), game.timer.direction);
  }

  /** The footer shows only when it has something to say. */
  #footer() {
    const { bottom, period, clock, viewers, conn } = this.#parts;
    period.hidden = period.textContent === "";
    bottom.hidden = period.hidden && clock.hidden && viewers.textContent === "" && conn.hidden;
  }

  #renderTimeline(game) {
    const list = this.#parts.timeline;
    const events = Array.isArray(game.events) ? game.events : [];
    const on = this.hasAttribute("timeline");
    list.hidden = !on || events.length === 0;
    if (!on) return list.replaceChildren();
    const rows = events.map((event) => {
      const row = element("li", "event", "event");
      const when = element("span", "when");
      when.textContent = typeof event.clock === "string"
        ? event.clock
        : typeof event.elapsedMs === "number"
        ? formatTimer(event.elapsedMs, game.timer?.direction)
        : timeOfDay(event.time);
      const kind = element("span", "kind");
      kind.textContent = String(event.kind ?? "");
      const side = element("span", "side");
      side.textContent = event.side === "home" || event.side === "away"
        ? String(game[event.side]?.name ?? "")
        : "";
      side.hidden = side.textContent === "";
      const text = element("span", "text");
      const points = typeof event.points === "number" && event.points !== 1
        ? ` (${event.points > 0 ? "+" : "\u2212"}${Math.abs(event.points)})`
        : "";
      text.textContent = `${typeof event.text === "string" ? event.text : ""}${points}`;
      row.append(when, kind, side, text);
      return row;
    });
    list.replaceChildren(...rows);
  }

  /** Announces a score or status change (not the first render) and flashes the new score. */
  #announce(before, game) {
    if (!before || before.id !== game.id) return;
    if (before.home?.score !== game.home?.score) flash(this.#parts.home.score);
    if (before.away?.score !== game.away?.score) flash(this.#parts.away.score);
    const line = announcement(before, game);
    if (line !== null) this.#parts.live.textContent = line;
  }
}

function timeOfDay(time) {
  const at = new Date(typeof time === "string" ? time : NaN);
  if (Number.isNaN(at.getTime())) return "";
  return at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

// ---- <scoreline-board> ---------------------------------------------------------------------

/** Games being played come first; then by kick-off (games without one last), then by id. */
function boardOrder(games) {
  const playing = (game) => (game.status === "live" || game.status === "break" ? 0 : 1);
  return [...games].sort((a, b) =>
    playing(a) - playing(b) ||
    (typeof a.startsAt === "string" ? a.startsAt : "~").localeCompare(
      typeof b.startsAt === "string" ? b.startsAt : "~",
    ) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * A list of games, live first, then by kick-off, updating live: `competition="x"` (every game of
 * it, as they are created) or `games="a,b"` (those). Themed like `<scoreline-game>`.
 */
class ScorelineBoard extends FeedElement {
  static get observedAttributes() {
    return ["competition", "games", "server"];
  }

  #parts;
  #attached = null;
  /** Game id → `{ row, parts, game }` as last rendered. */
  #rows = new Map();
  #clock;

  constructor() {
    super();
    const card = element("div", "card board", "card");
    const caption = element("p", "caption", "caption");
    const rows = element("ol", "rows", "rows");
    const bottom = element("div", "bottom", "footer");
    const conn = staleSign();
    bottom.append(conn);
    card.append(caption, rows, bottom);
    const { message, slot, live } = this.mount(card);
    this.#parts = { card, caption, rows, bottom, conn, message, slot, live };
    this.#clock = { tick: () => this.#tick(), nextIn: () => this.#nextTickIn() };
  }

  attach() {
    const competition = this.getAttribute("competition");
    const list = this.getAttribute("games");
    const server = this.getAttribute("server");
    const origin = originOf(server);
    const ids = list === null
      ? null
      : [...new Set(list.split(",").map((id) => id.trim()).filter((id) => id !== ""))];
    const key = `${origin}|${competition}|${ids}`;
    if (this.#attached?.key === key) return;
    this.detach();
    if ((competition === null) === (ids === null)) {
      return showProblem(this.#parts, 'Set competition="…" or games="a,b" (one of them).');
    }
    if (competition !== null && !GAME_ID.test(competition)) {
      return showProblem(this.#parts, `competition="${competition}" is not a competition id.`);
    }
    if (ids !== null && (ids.length === 0 || !ids.every((id) => GAME_ID.test(id)))) {
      return showProblem(this.#parts, `games="${list}" must list game ids, separated by commas.`);
    }
    if (origin === null) {
      return showProblem(
        this.#parts,
        `server="${server}" is not an http(s) origin like https://scores.example.`,
      );
    }
    const feed = feedFor(origin, competition);
    this.#attached = { key, feed, ids };
    feed.add(this, ids ?? [], false);
    this.update(feed);
  }

  detach() {
    this.#attached?.feed.remove(this);
    this.#attached = null;
    this.#rows.clear();
    this.#parts.rows.replaceChildren();
    runClock(this.#clock, false);
  }

  /** The games this board shows, from its feed. */
  #games(feed) {
    const { ids } = this.#attached;
    if (ids === null) return [...feed.games.values()];
    return ids.map((id) => feed.game(id)).filter((game) => game !== undefined);
  }

  update(feed) {
    if (this.#attached?.feed !== feed) return;
    const { card, caption, message, slot, conn, bottom } = this.#parts;
    const fallback = [...this.childNodes].some((node) =>
      node.nodeType === Node.ELEMENT_NODE || node.textContent.trim() !== ""
    );
    if (!feed.synced && this.#rows.size === 0) {
      card.hidden = true;
      if (fallback && !feed.stale) {
        message.hidden = true;
        slot.hidden = false;
      } else {
        message.textContent = feed.stale
          ? "Not live \u00b7 reconnecting\u2026"
          : "Connecting\u2026";
        message.hidden = false;
        slot.hidden = true;
      }
      return;
    }
    const { ids } = this.#attached;
    caption.textContent = feed.competition ?? "";
    caption.hidden = caption.textContent === "";
    // While a new scope's snapshot is on its way, what was shown stays.
    if (feed.synced) this.#renderRows(boardOrder(this.#games(feed)), ids);
    card.classList.toggle("stale", feed.stale);
    conn.hidden = !feed.stale;
    bottom.hidden = conn.hidden;
    card.hidden = false;
    slot.hidden = true;
    message.hidden = this.#rows.size > 0;
    if (this.#rows.size === 0) message.textContent = "No games yet.";
    this.#tick();
  }

  #renderRows(games, ids) {
    const announcements = [];
    const seen = new Set();
    for (const game of games) {
      seen.add(game.id);
      let entry = this.#rows.get(game.id);
      if (!entry) {
        entry = this.#newRow(game.id);
        this.#rows.set(game.id, entry);
      } else if (entry.game !== game) {
        const line = announcement(entry.game, game);
        if (line !== null) announcements.push(line);
        if (entry.game.home?.score !== game.home?.score) flash(entry.parts.hs);
        if (entry.game.away?.score !== game.away?.score) flash(entry.parts.as);
      }
      if (entry.game !== game) this.#fillRow(entry, game);
    }
    for (const [id, entry] of this.#rows) {
      if (!seen.has(id) || (ids !== null && !ids.includes(id))) {
        entry.row.remove();
        this.#rows.delete(id);
      }
    }
    // Reordered by moving rows only where the order changed, so a row being read stays put.
    const list = this.#parts.rows;
    let at = list.firstElementChild;
    for (const game of games) {
      const { row } = this.#rows.get(game.id);
      if (row === at) at = at.nextElementSibling;
      else list.insertBefore(row, at);
    }
    if (announcements.length > 0) this.#parts.live.textContent = announcements.join(". ");
    runClock(this.#clock, games.some((game) => game.timer?.running === true));
  }

  #newRow(id) {
    const row = element("li", "row", "row");
    row.dataset.game = id;
    const state = element("span", "state");
    const badge = element("span", "badge", "status");
    const title = element("span", "title", "title");
    const clock = element("span", "clock", "clock");
    clock.setAttribute("role", "timer");
    state.append(badge, title, clock);
    const home = element("span", "home name", "name");
    const hs = element("span", "hs score", "score");
    const dash = element("span", "dash");
    dash.textContent = "\u2013";
    dash.setAttribute("aria-hidden", "true");
    const as = element("span", "as score", "score");
    const away = element("span", "away name", "name");
    row.append(state, home, hs, dash, as, away);
    return { row, parts: { badge, title, clock, home, hs, as, away }, game: null };
  }

  #fillRow(entry, game) {
    const { parts } = entry;
    setBadge(parts.badge, game.status);
    // A competition's games mostly share a title ("League, round 9"): its board shows periods.
    const title = this.#attached?.ids === null ? undefined : game.title;
    parts.title.textContent = [title, game.period].filter((s) => typeof s === "string" && s)
      .join(" \u00b7 ");
    parts.home.textContent = String(game.home?.name ?? "");
    parts.away.textContent = String(game.away?.name ?? "");
    parts.hs.textContent = String(game.home?.score ?? "");
    parts.as.textContent = String(game.away?.score ?? "");
    entry.game = game;
  }

  #tick() {
    const feed = this.#attached?.feed;
    if (!feed) return;
    const now = feed.now();
    for (const { parts, game } of this.#rows.values()) {
      const text = clockText(game, now) || kickOff(game);
      if (parts.clock.textContent !== text) parts.clock.textContent = text;
    }
  }

  #nextTickIn() {
    const feed = this.#attached?.feed;
    if (!feed) return Infinity;
    const now = feed.now();
    let soonest = Infinity;
    for (const { game } of this.#rows.values()) {
      if (!game.timer?.running) continue;
      soonest = Math.min(soonest, untilNextSecond(timerMs(game, now), game.timer.direction));
    }
    return soonest;
  }
}

if (!customElements.get(TAG)) customElements.define(TAG, ScorelineGame);
if (!customElements.get(BOARD_TAG)) customElements.define(BOARD_TAG, ScorelineBoard);
