/**
 * Scoreline widget: a live score anywhere, as one element.
 *
 *   <script type="module" src="https://scores.example/widget.js"></script>
 *   <scoreline-game game="cup-final"></scoreline-game>
 *
 * `server` (an origin) defaults to the origin this script was loaded from. No build step and no
 * dependencies: this file is what browsers run. Every text from the server is set with
 * textContent, never parsed as HTML, so a team called "<img onerror=...>" is only a name.
 *
 * Connections: browsers allow 6 HTTP/1.1 connections per origin, so widgets never open one each.
 * All widgets of one server share one feed: that game's feed while they all show the same game,
 * the all-games feed (dispatched by id) as soon as they show several. The feed is Server-Sent
 * Events, or long polling where EventSource is missing or keeps failing; both resume from the
 * last version seen, so a restart of the service or a network change loses nothing.
 */

// The status words the kiosk pages use too (one list, served as /static/labels.js).
import { STATUS_LABELS } from "./static/labels.js";

const TAG = "scoreline-game";
const GAME_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;
const MESSAGE_TYPES = ["snapshot", "update", "removed"];

/** Seconds a long poll may wait on the server (the contract allows 0–60; 25 passes most proxies). */
const POLL_TIMEOUT_S = 25;
/** EventSource failures in a row before falling back to long polling. */
const SSE_MAX_FAILURES = 3;
/** A stream that stayed up this long was working: its drop starts a new count of failures. */
const SSE_HEALTHY_MS = 30_000;
/** After falling back, long polling is used this long before EventSource is tried again... */
const SSE_RETRY_MS = 60_000;
/** ...doubling each time it fails again, up to this. */
const SSE_RETRY_MAX_MS = 15 * 60_000;
/** A feed that neither failed nor answered within this is waiting: the game does not exist yet. */
const SETTLE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

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
  display: flex; gap: 0.75em; margin-top: 0.35em; font-size: 0.8em;
  color: var(--scoreline-muted, #545b66);
}
.conn { margin-left: auto; font-style: italic; }
.stale .team { opacity: 0.6; }
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
`;

/** Connections by server origin: what makes the widgets of one server share one feed. */
const connections = new Map();

function connectionFor(origin) {
  let connection = connections.get(origin);
  if (!connection) {
    connection = new Connection(origin);
    connections.set(origin, connection);
  }
  return connection;
}

class Connection {
  constructor(origin) {
    this.origin = origin;
    /** Game id → the widgets showing it. */
    this.widgets = new Map();
    /** Game id → its latest state, for every game in the feed's scope. */
    this.games = new Map();
    /** null: all games; an id: that game only; undefined: not started. */
    this.scope = undefined;
    /** The last version seen: where the next request resumes. */
    this.cursor = null;
    this.online = false;
    /** True once the feed has said what exists (a snapshot, or a wait for a game not there). */
    this.settled = false;
    this.stop = null;
    this.sseFailures = 0;
    this.sseRetryMs = SSE_RETRY_MS;
    /** Long polling is used until this time (set when EventSource kept failing). */
    this.pollUntil = 0;
    this.settleTimer = 0;
    this.queued = false;
  }

  add(id, widget) {
    let shown = this.widgets.get(id);
    if (!shown) this.widgets.set(id, shown = new Set());
    shown.add(widget);
    widget.show(this.view(id));
    this.queueReconcile();
  }

  remove(id, widget) {
    const shown = this.widgets.get(id);
    shown?.delete(widget);
    if (shown?.size === 0) this.widgets.delete(id);
    this.queueReconcile();
  }

  view(id) {
    return { game: this.games.get(id), online: this.online, settled: this.settled };
  }

  /**
   * Widgets arrive in bursts (a page's markup, a list re-rendered, an element moved): the feed
   * is chosen once the burst is over, so a page of ten widgets opens one feed, not ten in turn.
   */
  queueReconcile() {
    if (this.queued) return;
    this.queued = true;
    setTimeout(() => {
      this.queued = false;
      this.reconcile();
    }, 0);
  }

  reconcile() {
    const ids = [...this.widgets.keys()];
    if (ids.length === 0) {
      this.close();
      connections.delete(this.origin);
      return;
    }
    const wanted = ids.length === 1 ? ids[0] : null;
    if (this.stop && (this.scope === null || this.scope === wanted)) return;
    // Another scope: the old cursor says nothing about the games now wanted, so start afresh.
    this.close();
    this.scope = wanted;
    this.cursor = null;
    this.settled = false;
    this.start();
  }

  start() {
    const sse = typeof EventSource === "function" && Date.now() >= this.pollUntil;
    this.stop = sse ? this.openEventSource() : this.openLongPoll();
  }

  close() {
    clearTimeout(this.settleTimer);
    this.stop?.();
    this.stop = null;
  }

  restart() {
    this.close();
    this.start();
  }

  url(kind, params) {
    const path = this.scope === null ? `/api/${kind}` : `/api/games/${this.scope}/${kind}`;
    const query = Object.entries(params)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
      .join("&");
    return `${this.origin}${path}${query ? `?${query}` : ""}`;
  }

  openEventSource() {
    const source = new EventSource(this.url("events", { since: this.cursor }));
    let openedAt = 0;
    const onMessage = (event) => this.receive(parse(event.data));
    for (const type of MESSAGE_TYPES) source.addEventListener(type, onMessage);
    source.onopen = () => {
      openedAt = Date.now();
      this.setOnline(true);
      this.settleSoon();
    };
    // EventSource reconnects by itself, sending Last-Event-ID: the version last seen. It gives
    // up (CLOSED) on an answer that is not an event stream, e.g. from a proxy that buffers.
    source.onerror = () => {
      clearTimeout(this.settleTimer);
      this.setOnline(false);
      if (openedAt && Date.now() - openedAt >= SSE_HEALTHY_MS) {
        this.sseFailures = 0;
        this.sseRetryMs = SSE_RETRY_MS;
      }
      openedAt = 0;
      this.sseFailures += 1;
      if (source.readyState === EventSource.CLOSED || this.sseFailures >= SSE_MAX_FAILURES) {
        this.sseFailures = 0;
        this.pollUntil = Date.now() + this.sseRetryMs;
        this.sseRetryMs = Math.min(this.sseRetryMs * 2, SSE_RETRY_MAX_MS);
        this.restart();
      }
    };
    return () => source.close();
  }

  openLongPoll() {
    const controller = new AbortController();
    const { signal } = controller;
    const loop = async () => {
      let delay = 0;
      while (!signal.aborted) {
        if (delay > 0) await sleep(delay, signal);
        if (signal.aborted) return;
        this.settleSoon();
        let response;
        try {
          response = await fetch(
            this.url("poll", { since: this.cursor, timeout: POLL_TIMEOUT_S }),
            {
              signal,
              cache: "no-store",
            },
          );
          if (response.status === 200) {
            const body = await response.json();
            for (const message of body.messages ?? []) this.receive(message);
          } else {
            await response.body?.cancel();
          }
        } catch {
          if (signal.aborted) return;
          response = undefined;
        }
        clearTimeout(this.settleTimer);
        if (!response || (response.status !== 200 && response.status !== 204)) {
          this.setOnline(false);
          delay = backoff(delay, response?.headers.get("retry-after"));
          continue;
        }
        delay = 0;
        this.markSettled();
        if (typeof EventSource === "function" && this.pollUntil && Date.now() >= this.pollUntil) {
          this.restart();
          return;
        }
      }
    };
    loop();
    return () => controller.abort();
  }

  /** A feed that is open but silent is waiting for a game that does not exist yet. */
  settleSoon() {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.markSettled(), SETTLE_MS);
  }

  /** The feed answered, or holds the request open: it is up and has said what exists. */
  markSettled() {
    clearTimeout(this.settleTimer);
    const changed = !this.settled || !this.online;
    this.settled = true;
    this.online = true;
    if (changed) this.notifyAll();
  }

  setOnline(online) {
    if (this.online === online) return;
    this.online = online;
    this.notifyAll();
  }

  receive(message) {
    if (!message || typeof message.version !== "number") return;
    if (message.type === "snapshot") {
      if (Array.isArray(message.games)) {
        this.games = new Map(message.games.map((game) => [game.id, game]));
      } else if (message.game) {
        this.games.set(message.game.id, message.game);
      }
      // A snapshot may go back: a store that was reset starts a new count above the old one,
      // and a cursor above the service's version is answered with a snapshot at its version.
      this.cursor = message.version;
      this.settled = true;
      clearTimeout(this.settleTimer);
      this.notifyAll();
      return;
    }
    const id = message.type === "update" ? message.game?.id : message.id;
    if (typeof id !== "string") return;
    const known = this.games.get(id);
    if (!known || known.version < message.version) {
      if (message.type === "update") this.games.set(id, message.game);
      else if (message.type === "removed") this.games.delete(id);
    }
    if (this.cursor === null || message.version > this.cursor) this.cursor = message.version;
    this.notify(id);
  }

  notify(id) {
    for (const widget of this.widgets.get(id) ?? []) widget.show(this.view(id));
  }

  notifyAll() {
    for (const id of this.widgets.keys()) this.notify(id);
  }
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Waits `ms`, or less if `signal` aborts; leaves no listener behind either way. */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** Exponential, with jitter so that many pages do not retry in step; honours Retry-After. */
function backoff(previous, retryAfter) {
  const hinted = Number(retryAfter) * 1000;
  if (hinted > 0) return Math.min(hinted, BACKOFF_MAX_MS * 2) + Math.random() * 1000;
  const next = Math.min(BACKOFF_MAX_MS, Math.max(1000, previous * 2));
  return next / 2 + Math.random() * (next / 2);
}

let sharedSheet = null;

/** One parsed stylesheet for every widget; a <style> where constructable sheets are missing. */
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

class ScorelineGame extends HTMLElement {
  static get observedAttributes() {
    return ["game", "server"];
  }

  #parts;
  /** The connection and game this widget is registered with. */
  #attached = null;
  /** What was last shown, to tell a change (announced) from a first render (not announced). */
  #shown = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    adoptStyles(root);
    const card = element("div", "card", "card");
    const top = element("div", "top");
    const title = element("span", "title", "title");
    const badge = element("span", "badge", "status");
    top.append(title, badge);
    const home = sideElements("home");
    const away = sideElements("away");
    const bottom = element("div", "bottom", "footer");
    const meta = element("span", "meta");
    const conn = element("span", "conn");
    bottom.append(meta, conn);
    card.append(top, home.row, away.row, bottom);
    const message = element("p", "message", "message");
    // Whatever the page put inside the element shows until live data arrives (and is all there
    // is without JavaScript): the embed page renders the game there on the server.
    const slot = element("slot");
    // Screen readers hear score and status changes from here, not every tick of the clock.
    const live = element("div", "sr");
    live.setAttribute("aria-live", "polite");
    live.setAttribute("aria-atomic", "true");
    card.hidden = true;
    message.hidden = true;
    root.append(card, message, slot, live);
    this.#parts = { card, title, badge, home, away, bottom, meta, conn, message, slot, live };
  }

  connectedCallback() {
    this.#attach();
  }

  disconnectedCallback() {
    this.#detach();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.#attach();
  }

  #attach() {
    const id = this.getAttribute("game") ?? "";
    const server = this.getAttribute("server");
    let origin = null;
    try {
      const url = new URL(server ?? SCRIPT_ORIGIN);
      if (url.protocol === "https:" || url.protocol === "http:") origin = url.origin;
    } catch {
      // reported below
    }
    const attached = this.#attached;
    if (attached && attached.id === id && attached.connection.origin === origin) return;
    this.#detach();
    if (!GAME_ID.test(id)) {
      this.#problem(`No game to show: set game="…" to a game id (got "${id}").`);
    } else if (origin === null) {
      this.#problem(`server="${server}" is not an http(s) origin like https://scores.example.`);
    } else {
      this.#attached = { id, connection: connectionFor(origin) };
      this.#attached.connection.add(id, this);
    }
  }

  #detach() {
    this.#attached?.connection.remove(this.#attached.id, this);
    this.#attached = null;
    this.#shown = null;
  }

  #problem(text) {
    const { card, message, slot } = this.#parts;
    card.hidden = true;
    slot.hidden = true;
    message.hidden = false;
    message.textContent = text;
  }

  /** Called by the connection with this widget's game (or its absence) and the feed's state. */
  show({ game, online, settled }) {
    const { card, message, slot, conn, meta, bottom } = this.#parts;
    if (game) {
      this.#render(game);
      card.classList.toggle("stale", !online);
      conn.textContent = online ? "" : "Reconnecting\u2026";
      bottom.hidden = meta.textContent === "" && conn.textContent === "";
      card.hidden = false;
      message.hidden = true;
      slot.hidden = true;
      return;
    }
    card.hidden = true;
    this.#shown = null;
    const fallback = [...this.childNodes].some((node) =>
      node.nodeType === Node.ELEMENT_NODE || node.textContent.trim() !== ""
    );
    if (online && settled) {
      message.textContent = "Waiting for this game\u2026";
    } else if (fallback && !settled) {
      message.hidden = true;
      slot.hidden = false;
      return;
    } else {
      message.textContent = settled ? "Reconnecting\u2026" : "Connecting\u2026";
    }
    message.hidden = false;
    slot.hidden = true;
  }

  #render(game) {
    const parts = this.#parts;
    const title = typeof game.title === "string" ? game.title : "";
    parts.title.textContent = title;
    parts.title.hidden = title === "";
    const status = Object.hasOwn(STATUS_LABELS, game.status) ? game.status : "";
    parts.badge.textContent = STATUS_LABELS[status] ?? String(game.status);
    parts.badge.className = status ? `badge ${status}` : "badge";
    for (const which of ["home", "away"]) {
      const side = game[which] ?? {};
      const view = parts[which];
      view.name.textContent = String(side.name ?? "");
      view.detail.textContent = typeof side.detail === "string" ? side.detail : "";
      view.detail.hidden = view.detail.textContent === "";
      view.score.textContent = String(side.score ?? "");
    }
    parts.meta.textContent = [game.period, game.clock].filter((s) => typeof s === "string" && s)
      .join(" \u00b7 ");
    this.#announce(game);
  }

  /** Announces a score or status change (not the first render) and flashes the new score. */
  #announce(game) {
    const before = this.#shown;
    const now = {
      id: game.id,
      home: game.home?.score,
      away: game.away?.score,
      status: game.status,
    };
    this.#shown = now;
    if (!before || before.id !== now.id) return;
    if (before.home !== now.home) flash(this.#parts.home.score);
    if (before.away !== now.away) flash(this.#parts.away.score);
    const scored = before.home !== now.home || before.away !== now.away;
    const statusChanged = before.status !== now.status;
    if (!scored && !statusChanged) return;
    const line = `${game.home?.name} ${now.home}, ${game.away?.name} ${now.away}`;
    const label = STATUS_LABELS[now.status] ?? String(now.status);
    this.#parts.live.textContent = statusChanged ? `${label}: ${line}` : line;
  }
}

function flash(node) {
  node.classList.remove("changed");
  void node.offsetWidth; // restart the animation when two goals come in quick succession
  node.classList.add("changed");
}

if (!customElements.get(TAG)) customElements.define(TAG, ScorelineGame);
