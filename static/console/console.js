// The scorer console page: token entry, game picker, match clock, goals, timeline and undo,
// score corrections, status, period and clock text.
//
// It is built on the client library the service serves as /client.js: `watch()` keeps the game
// on screen current (WebSocket, else SSE, else long polling; resumed by cursor and reconnected by
// itself after any drop, including a proxy's 502 while the service restarts), `handle.now()` is
// the server's time for the running clock, and the `Scorer` sends every write with its own
// Idempotency-Key, retried with that key. What the scorer *meant* (a double tap is one goal, a
// change that got no answer is sent again when the feed is back) lives in intents.js.
import { Scorer, timerMs, watch } from "../client.js";
import { Intents } from "./intents.js";

const TOKEN_KEY = "scoreline-token";
/** A second tap on the same button within this time is the same intent (a double tap). */
const DOUBLE_TAP_MS = 700;
/**
 * Reconnect back-off for the feed, at most 5 s (the library's default is 30 s, made for crowds
 * of viewers): a scorer is one phone, and should see "live" again soon after the service is back.
 */
const RETRY_MAX_MS = 5_000;
/** Scorer retries: about 20 s of tries before a change is left pending (and sent again later). */
const WRITE_RETRIES = 8;
const WRITE_RETRY_MAX_MS = 4_000;

const $ = (id) => document.getElementById(id);
const el = {
  tokenForm: $("token-form"),
  token: $("token"),
  forget: $("forget"),
  picker: $("picker"),
  select: $("game"),
  reload: $("reload"),
  create: $("create"),
  createForm: $("create-form"),
  board: $("board"),
  stale: $("stale"),
  title: $("title"),
  timer: $("timer"),
  timerToggle: $("timer-toggle"),
  scorerName: $("scorer-name"),
  timeline: $("timeline"),
  timelineEmpty: $("timeline-empty"),
  undo: $("undo"),
  message: $("message"),
  retry: $("retry"),
  statuses: $("statuses"),
  clockForm: $("clock-form"),
  period: $("period"),
  clock: $("clock"),
  version: $("version"),
  connection: $("connection"),
};

let intents = null;
let game = null; // the game as shown: every write is based on its version
let handle = null; // the watch() of the game on screen
let wasLive = false; // the feed of the game on screen has been live: a drop is news
let isLive = false; // ...and is live now
let tick = null; // the timeout that moves the clock on to its next second
let lastTap = null; // { button, at, intent }
/** What to say when a pending intent is answered at last, by intent. */
const pendingUi = new Map();

function storage() {
  try {
    return globalThis.sessionStorage;
  } catch {
    return null; // storage disabled: the token lives only as long as this page
  }
}

function say(text, tone = "") {
  el.message.textContent = text;
  el.message.className = `message ${tone}`;
}

/** The game id in the URL's fragment (`/console#cup-final`), or "" when there is none. */
function hashId() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return ""; // a malformed fragment is no reason not to start
  }
}

function scoreLine(g) {
  return `${g.home.name} ${g.home.score} – ${g.away.score} ${g.away.name}`;
}

/** `mm:ss`, minutes uncapped; a `down` timer rounds up, so 00:00 means the time is out. */
function clockText(ms, direction) {
  const seconds = direction === "down" ? Math.ceil(ms / 1000) : Math.floor(ms / 1000);
  const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
  return `${mm}:${String(seconds % 60).padStart(2, "0")}`;
}

function start(token) {
  intents = new Intents({
    scorer: new Scorer({ token, retries: WRITE_RETRIES, retryMaxMs: WRITE_RETRY_MAX_MS }),
  });
  el.tokenForm.hidden = true;
  el.picker.hidden = false;
  el.forget.hidden = false;
  loadGames().then(() => choose(hashId()));
}

function askForToken(reason) {
  storage()?.removeItem(TOKEN_KEY);
  intents = null;
  pendingUi.clear();
  el.retry.hidden = true;
  el.tokenForm.hidden = false;
  el.picker.hidden = true;
  el.board.hidden = true;
  el.forget.hidden = true;
  closeFeed();
  if (reason) say(reason, "error");
  el.token.value = "";
  el.token.focus();
}

/** A game as the list names it: its title and score. */
function gameLabel(g) {
  return `${g.title ?? g.id} (${scoreLine(g)})`;
}

async function loadGames() {
  try {
    const response = await fetch("/api/games", { cache: "no-store" });
    const list = await response.json();
    const current = el.select.value || hashId();
    el.select.replaceChildren(new Option("Choose a game…", ""));
    for (const g of list.games) {
      el.select.append(new Option(gameLabel(g), g.id));
    }
    el.select.value = list.games.some((g) => g.id === current) ? current : "";
  } catch {
    say("Could not load the games. Check the connection and press “Reload list”.", "error");
  }
}

function choose(id) {
  closeFeed();
  game = null;
  lastTap = null;
  renderTimer();
  if (!id) {
    el.board.hidden = true;
    history.replaceState(null, "", location.pathname);
    return;
  }
  history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  el.select.value = id;
  el.board.hidden = false;
  el.stale.hidden = true;
  setButtons(false);
  say("Connecting…");
  openFeed(id);
}

function openFeed(id) {
  const feed = watch({ game: id, retryMaxMs: RETRY_MAX_MS });
  handle = feed;
  wasLive = false;
  isLive = false;
  feed.addEventListener("change", ({ detail }) => {
    if (feed !== handle || !detail.changed.includes(id)) return;
    const next = detail.games.get(id);
    if (next) {
      show(next);
      if (el.message.textContent === "Connecting…") say("");
    } else if (game) {
      show(null);
      say("This game was removed.", "warn");
    }
  });
  feed.addEventListener("status", ({ detail }) => {
    if (feed === handle) onStatus(detail);
  });
}

function closeFeed() {
  handle?.close();
  handle = null;
  wasLive = false;
  isLive = false;
  setConnection(null);
}

/** The feed's status: the pill in the bar, the stale sign, and pending changes sent again. */
function onStatus(status) {
  setConnection(status);
  const live = status.state === "live";
  el.board.classList.toggle("stale", !live && wasLive);
  const cameBack = live && !isLive;
  isLive = live;
  if (live) {
    el.stale.hidden = true;
    renderTimer(); // the first ping may just have set the server's time
    wasLive = true;
    // The service answers again: what got no answer is sent again, with its key.
    if (cameBack && intents?.pending.length) resendPending();
    return;
  }
  if (!wasLive && status.state !== "failed") return; // still opening: "Connecting…" says it
  el.stale.hidden = false;
  el.stale.textContent = staleText(status);
}

/** Says, in words, that what is shown may be old, why, and what happens next. */
function staleText(status) {
  if (status.state === "failed") {
    return `Not live: the service refused the feed (HTTP ${status.httpStatus ?? "?"}). ` +
      "The score shown may be old. Reload the page.";
  }
  const why = {
    network: "no connection to the service",
    "http-error": `the service answered ${status.httpStatus ?? "with an error"}`,
    unavailable: "the service is busy or restarting",
    "rate-limited": "too many connections from this network",
    closed: "the connection was closed",
    silent: "nothing arrives",
  }[status.reason] ?? "reconnecting";
  const when = status.state === "retrying" && status.retryInMs !== undefined
    ? ` Trying again in ${Math.max(1, Math.round(status.retryInMs / 1000))} s, by itself.`
    : " Reconnecting…";
  return `Not live: ${why}. The score and clock shown may be old.${when}`;
}

function setConnection(status) {
  const live = status?.state === "live";
  el.connection.textContent = live
    ? "live"
    : !status || status.state === "closed"
    ? "offline"
    : wasLive
    ? "reconnecting…"
    : "connecting…";
  el.connection.classList.toggle("live", live);
  el.connection.classList.toggle("down", !live && wasLive);
}

function setButtons(enabled) {
  el.board.querySelectorAll("button").forEach((b) => (b.disabled = !enabled));
  if (enabled) el.undo.disabled = !game?.events?.length;
}

/** Shows a game state; older versions than the one shown are ignored (answers race the feed). */
function show(next) {
  if (next === null) {
    game = null;
    setButtons(false);
    renderTimer();
    return;
  }
  if (game && next.id === game.id && next.version < game.version) return;
  const changed = game && (next.home.score !== game.home.score ||
    next.away.score !== game.away.score);
  game = next;
  setButtons(true);
  // The list names the game with its score: keep that in step with the score shown below it.
  const option = [...el.select.options].find((o) => o.value === next.id);
  if (option) option.textContent = gameLabel(next);
  el.title.textContent = [next.title, next.period].filter(Boolean).join(" · ") || next.id;
  for (const side of ["home", "away"]) {
    const name = next[side].name;
    $(`${side}-name`).textContent = name;
    const score = $(`${side}-score`);
    score.textContent = String(next[side].score);
    if (changed) {
      score.classList.add("flash");
      setTimeout(() => score.classList.remove("flash"), 600);
    }
    for (const button of el.board.querySelectorAll(`.tap[data-side="${side}"]`)) {
      const points = Number(button.dataset.points);
      button.setAttribute(
        "aria-label",
        button.classList.contains("goal")
          ? `Goal for ${name}`
          : `${points > 0 ? "Add" : "Take away"} 1 ${points > 0 ? "to" : "from"} ${name}`,
      );
    }
  }
  for (const button of el.statuses.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === next.status));
  }
  if (document.activeElement !== el.period) el.period.value = next.period ?? "";
  if (document.activeElement !== el.clock) el.clock.value = next.clock ?? "";
  el.version.textContent = String(next.version);
  renderTimeline(next);
  renderTimer();
}

/**
 * The match clock: the timer as it reads now on the server's clock (so a phone whose own clock
 * is minutes off still agrees with every other screen), moved on at each next whole second;
 * the game's clock text when it has no timer.
 */
function renderTimer() {
  clearTimeout(tick);
  tick = null;
  const timer = game?.timer;
  const running = Boolean(timer?.running);
  el.timerToggle.textContent = running ? "Stop clock" : "Start clock";
  el.timerToggle.setAttribute("aria-pressed", String(running));
  el.timerToggle.classList.toggle("running", running);
  if (!game || !timer || !handle) {
    el.timer.textContent = game?.clock ?? "--:--";
    return;
  }
  const ms = timerMs(game, handle.now());
  el.timer.textContent = clockText(ms, timer.direction);
  if (!running) return;
  // Until the shown second changes: up timers at the next whole second, down ones likewise.
  const into = ms % 1000;
  const wait = timer.direction === "down" ? into || 1000 : 1000 - into;
  tick = setTimeout(renderTimer, wait + 20);
}

/** What a timeline line says: when, what, for whom, who; all set as text, never as HTML. */
function eventLine(event, g) {
  const when = event.clock ??
    (event.elapsedMs !== undefined
      ? clockText(event.elapsedMs, g.timer?.direction)
      : new Date(event.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  const team = event.side ? g[event.side].name : "";
  const points = event.points !== undefined && event.points !== 1
    ? ` (${event.points > 0 ? "+" : ""}${event.points})`
    : "";
  return { when, what: `${event.kind}${points}`, team, text: event.text ?? "" };
}

function renderTimeline(g) {
  const events = g.events ?? [];
  const items = [];
  for (const event of events.slice().reverse()) {
    const line = eventLine(event, g);
    const li = document.createElement("li");
    li.dataset.event = String(event.id);
    for (const [cls, value] of Object.entries(line)) {
      if (!value) continue;
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = value;
      li.append(span);
    }
    items.push(li);
  }
  el.timeline.replaceChildren(...items);
  el.timelineEmpty.hidden = events.length > 0;
}

/** Sends an intent and tells the scorer what happened, in words. */
async function perform(intent, button, doneText) {
  button?.classList.add("busy");
  el.retry.hidden = true;
  say("Sending…");
  pendingUi.set(intent, { button, doneText });
  const result = await intents.send(intent);
  button?.classList.remove("busy");
  if (result.kind !== "failed") pendingUi.delete(intent);
  switch (result.kind) {
    case "ok":
      show(result.game);
      say(
        result.replayed
          ? `Already saved (a repeated tap counts once): ${scoreLine(result.game)}`
          : doneText(result.game),
        "ok",
      );
      return result;
    case "conflict":
      await refresh();
      say(
        "Not saved: the game changed before your tap arrived (another scorer?). " +
          (game ? `It is now ${scoreLine(game)}. ` : "") +
          "Check the score and tap again if it still needs changing.",
        "warn",
      );
      return result;
    case "unauthorized":
      askForToken("The token was not accepted. Enter it again.");
      return result;
    case "forbidden":
      say(
        `Not saved: the service refused this change (${result.detail}). Ask the organiser.`,
        "error",
      );
      return result;
    case "gone":
      say("This game does not exist (any more). Pick another one.", "error");
      return result;
    case "failed":
      el.retry.hidden = false;
      say(
        `Not confirmed yet: ${result.detail}. It is sent again by itself as soon as the ` +
          "connection is back, or press “Send again”: either way the server counts it once.",
        "error",
      );
      return result;
    default:
      say(`Not saved: ${result.detail}`, "error");
      return result;
  }
}

/** Sends the changes that got no answer again, with their keys, oldest first. */
async function resendPending() {
  if (!intents) return;
  for (const intent of intents.pending) {
    const ui = pendingUi.get(intent) ?? { button: null, doneText: (g) => `Saved: ${scoreLine(g)}` };
    const result = await perform(intent, ui.button, ui.doneText);
    if (result.kind === "failed") return; // still down: the next live status tries again
  }
}

async function refresh() {
  if (!game) return;
  try {
    const response = await fetch(`/api/games/${encodeURIComponent(game.id)}`, {
      cache: "no-store",
    });
    if (response.ok) show(await response.json());
    else await response.body?.cancel();
  } catch {
    // The feed brings the state when the connection is back.
  }
}

/** The intent of a tap: a second tap on the same button within DOUBLE_TAP_MS is the same one. */
function tapIntent(button, make) {
  const now = performance.now();
  if (lastTap && lastTap.button === button && now - lastTap.at < DOUBLE_TAP_MS) {
    return lastTap.intent; // a double tap: the same intent, so the same key, counted once
  }
  const intent = make();
  lastTap = { button, at: now, intent };
  return intent;
}

function onBoardTap(event) {
  const button = event.target.closest(".tap");
  if (!button || !game || !intents) return;
  const side = button.dataset.side;
  navigator.vibrate?.(30);
  if (button.classList.contains("goal")) {
    const text = el.scorerName.value.trim();
    const goal = { kind: "goal", side, points: 1, ...(text ? { text } : {}) };
    const intent = tapIntent(button, () => intents.intent(game, "event", [goal]));
    perform(intent, button, (g) => {
      if (el.scorerName.value.trim() === text) el.scorerName.value = "";
      return `Saved: goal ${g[side].name}${text ? ` (${text})` : ""}. ${scoreLine(g)}`;
    });
    return;
  }
  const points = Number(button.dataset.points);
  const intent = tapIntent(button, () => intents.intent(game, "score", [side, points]));
  perform(intent, button, (g) => `Saved: ${scoreLine(g)}`);
}

function onTimerToggle() {
  if (!game || !intents) return;
  const action = game.timer?.running ? "stop" : "start";
  // No If-Match: a start of a running clock (or a stop of a stopped one) changes nothing, so
  // two scorers who both start it agree, and a tap never fails for a goal recorded meanwhile.
  const intent = tapIntent(
    el.timerToggle,
    () => intents.intent(game, "timer", [{ action }], { ifMatch: false }),
  );
  perform(
    intent,
    el.timerToggle,
    (g) =>
      `Saved: clock ${g.timer?.running ? "running" : "stopped"} at ${
        clockText(timerMs(g, handle?.now() ?? Date.now()) ?? 0, g.timer?.direction)
      }`,
  );
}

function onUndo() {
  const last = game?.events?.at(-1);
  if (!last || !intents) return;
  const line = eventLine(last, game);
  const what = [line.what, line.team, line.text && `(${line.text})`].filter(Boolean).join(" ");
  // If-Match: only the last event the scorer sees is undone, never one added meanwhile, and a
  // double tap undoes it once.
  const intent = tapIntent(el.undo, () => intents.intent(game, "removeEvent", [last.id]));
  perform(intent, el.undo, (g) => `Undone: ${what}. ${scoreLine(g)}`);
}

function onStatusTap(event) {
  const button = event.target.closest("button[data-status]");
  if (!button || !game || !intents || button.dataset.status === game.status) return;
  const intent = intents.intent(game, "patch", [{ status: button.dataset.status }]);
  perform(intent, button, (g) => `Saved: status ${g.status}`);
}

function onClock(event) {
  event.preventDefault();
  if (!game || !intents) return;
  const period = el.period.value.trim();
  const clock = el.clock.value.trim();
  const intent = intents.intent(game, "patch", [{ period: period || null, clock: clock || null }]);
  perform(intent, null, (g) => `Saved: ${[g.period, g.clock].filter(Boolean).join(", ") || "—"}`);
}

async function onCreate(event) {
  event.preventDefault();
  if (!intents) return;
  const id = $("new-id").value.trim();
  const title = $("new-title").value.trim();
  const body = {
    ...(title ? { title } : {}),
    home: { name: $("new-home").value.trim() },
    away: { name: $("new-away").value.trim() },
  };
  say("Creating…");
  const result = await intents.send(intents.createIntent(id, body));
  if (result.kind === "ok") {
    el.create.open = false;
    el.createForm.reset();
    await loadGames();
    choose(id);
    say(`Created ${id}.`, "ok");
  } else if (result.kind === "conflict") {
    say(`A game "${id}" already exists: pick it from the list.`, "warn");
  } else if (result.kind === "unauthorized") {
    askForToken("The token was not accepted. Enter it again.");
  } else {
    const fields = (result.errors ?? []).map((e) => `${e.path}: ${e.message}`).join("; ");
    say(`Not created: ${fields || result.detail}`, "error");
  }
}

el.tokenForm.addEventListener("submit", (event) => {
  event.preventDefault(); // never a GET with the token in the URL
  const token = el.token.value.trim();
  if (!token) return;
  storage()?.setItem(TOKEN_KEY, token);
  el.token.value = "";
  say("");
  start(token);
});
el.forget.addEventListener("click", () => askForToken("Token forgotten."));
el.select.addEventListener("change", () => choose(el.select.value));
el.reload.addEventListener("click", () => loadGames());
el.createForm.addEventListener("submit", onCreate);
el.board.addEventListener("click", onBoardTap);
el.timerToggle.addEventListener("click", onTimerToggle);
el.undo.addEventListener("click", onUndo);
el.statuses.addEventListener("click", onStatusTap);
el.clockForm.addEventListener("submit", onClock);
el.retry.addEventListener("click", () => resendPending());
addEventListener("hashchange", () => {
  const id = hashId();
  if (intents && id !== (game?.id ?? "")) choose(id);
});
// A scorer's phone should not lock itself mid-match; where the browser allows it.
addEventListener("click", () => navigator.wakeLock?.request("screen").catch(() => {}), {
  once: true,
});

const saved = storage()?.getItem(TOKEN_KEY);
if (saved) start(saved);
else askForToken();
