// The scorer console page: token entry, game picker, score buttons, status, period and clock.
// The writes and their safety rules live in writer.js; this file wires the page to them and
// keeps the game on screen current through the game's Server-Sent Events feed, so a change
// made by another scorer shows up at once and every write is based on what is shown.
import { Writer } from "./writer.js";

const TOKEN_KEY = "scoreline-token";
/** A second tap on the same button within this time is the same intent (a double tap). */
const DOUBLE_TAP_MS = 700;

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
  title: $("title"),
  message: $("message"),
  retry: $("retry"),
  statuses: $("statuses"),
  clockForm: $("clock-form"),
  period: $("period"),
  clock: $("clock"),
  version: $("version"),
  connection: $("connection"),
};

let writer = null;
let game = null; // the game as shown: every write is based on its version
let feed = null;
let lastTap = null; // { button, at, intent }
let failedIntent = null;

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

function start(token) {
  writer = new Writer({ token });
  el.tokenForm.hidden = true;
  el.picker.hidden = false;
  el.forget.hidden = false;
  loadGames().then(() => choose(hashId()));
}

function askForToken(reason) {
  storage()?.removeItem(TOKEN_KEY);
  writer = null;
  el.tokenForm.hidden = false;
  el.picker.hidden = true;
  el.board.hidden = true;
  el.forget.hidden = true;
  closeFeed();
  if (reason) say(reason, "error");
  el.token.value = "";
  el.token.focus();
}

async function loadGames() {
  try {
    const response = await fetch("/api/games", { cache: "no-store" });
    const list = await response.json();
    const current = el.select.value || hashId();
    el.select.replaceChildren(new Option("Choose a game…", ""));
    for (const g of list.games) {
      el.select.append(new Option(`${g.title ?? g.id} (${scoreLine(g)})`, g.id));
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
  failedIntent = null;
  el.retry.hidden = true;
  if (!id) {
    el.board.hidden = true;
    history.replaceState(null, "", location.pathname);
    return;
  }
  history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  el.select.value = id;
  el.board.hidden = false;
  say("Connecting…");
  openFeed(id);
}

function openFeed(id) {
  feed = new EventSource(`/api/games/${encodeURIComponent(id)}/events`);
  const onMessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "removed") {
      show(null);
      say("This game was removed.", "warn");
    } else if (message.game) {
      show(message.game);
      if (el.message.textContent === "Connecting…") say("");
    }
  };
  feed.addEventListener("snapshot", onMessage);
  feed.addEventListener("update", onMessage);
  feed.addEventListener("removed", onMessage);
  feed.onopen = () => setConnection(true);
  feed.onerror = () => setConnection(false); // EventSource reconnects and resumes by itself
}

function closeFeed() {
  feed?.close();
  feed = null;
  setConnection(false);
}

function setConnection(live) {
  el.connection.textContent = live ? "live" : writer ? "reconnecting…" : "offline";
  el.connection.classList.toggle("live", live);
}

/** Shows a game state; older versions than the one shown are ignored (answers race the feed). */
function show(next) {
  if (next === null) {
    game = null;
    el.board.querySelectorAll("button").forEach((b) => (b.disabled = true));
    return;
  }
  if (game && next.id === game.id && next.version < game.version) return;
  const changed = game && (next.home.score !== game.home.score ||
    next.away.score !== game.away.score);
  game = next;
  el.board.querySelectorAll("button").forEach((b) => (b.disabled = false));
  el.title.textContent = [next.title, next.period, next.clock].filter(Boolean).join(" · ") ||
    next.id;
  for (const side of ["home", "away"]) {
    $(`${side}-name`).textContent = next[side].name;
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
        `${points > 0 ? "Add" : "Take away"} 1 ${points > 0 ? "to" : "from"} ${next[side].name}`,
      );
    }
  }
  for (const button of el.statuses.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === next.status));
  }
  if (document.activeElement !== el.period) el.period.value = next.period ?? "";
  if (document.activeElement !== el.clock) el.clock.value = next.clock ?? "";
  el.version.textContent = String(next.version);
}

/** Sends an intent and tells the scorer what happened, in words. */
async function perform(intent, button, doneText) {
  button?.classList.add("busy");
  el.retry.hidden = true;
  say("Sending…");
  const result = await writer.send(intent);
  button?.classList.remove("busy");
  switch (result.kind) {
    case "ok":
      failedIntent = null;
      show(result.game);
      say(
        result.replayed
          ? `Already saved (a repeated tap counts once): ${scoreLine(result.game)}`
          : `${doneText(result.game)}`,
        "ok",
      );
      return;
    case "conflict":
      await refresh();
      say(
        "Not saved: the game changed before your tap arrived (another scorer?). " +
          (game ? `It is now ${scoreLine(game)}. ` : "") +
          "Check the score and tap again if it still needs changing.",
        "warn",
      );
      return;
    case "unauthorized":
      askForToken("The token was not accepted. Enter it again.");
      return;
    case "forbidden":
      say("This token may not change this game. Ask the organiser.", "error");
      return;
    case "gone":
      say("This game does not exist (any more). Pick another one.", "error");
      return;
    case "failed":
      failedIntent = { intent, button, doneText };
      el.retry.hidden = false;
      say(
        `Not confirmed: ${result.detail}. Press “Send again” when the connection is back: ` +
          "it is safe, the server counts this change only once.",
        "error",
      );
      return;
    default:
      say(`Not saved: ${result.detail}`, "error");
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
    // The feed will bring the state when the connection is back.
  }
}

function onTap(event) {
  const button = event.target.closest(".tap");
  if (!button || !game || !writer) return;
  const side = button.dataset.side;
  const points = Number(button.dataset.points);
  const now = performance.now();
  let intent;
  if (lastTap && lastTap.button === button && now - lastTap.at < DOUBLE_TAP_MS) {
    intent = lastTap.intent; // a double tap: the same intent, so the same key, counted once
  } else {
    intent = writer.intent(game, "POST", `/api/games/${encodeURIComponent(game.id)}/score`, {
      side,
      points,
    });
    lastTap = { button, at: now, intent };
  }
  navigator.vibrate?.(30);
  perform(intent, button, (g) => `Saved: ${scoreLine(g)}`);
}

function onStatus(event) {
  const button = event.target.closest("button[data-status]");
  if (!button || !game || !writer || button.dataset.status === game.status) return;
  const intent = writer.intent(game, "PATCH", `/api/games/${encodeURIComponent(game.id)}`, {
    status: button.dataset.status,
  });
  perform(intent, button, (g) => `Saved: status ${g.status}`);
}

function onClock(event) {
  event.preventDefault();
  if (!game || !writer) return;
  const period = el.period.value.trim();
  const clock = el.clock.value.trim();
  const intent = writer.intent(game, "PATCH", `/api/games/${encodeURIComponent(game.id)}`, {
    period: period || null,
    clock: clock || null,
  });
  perform(intent, null, (g) => `Saved: ${[g.period, g.clock].filter(Boolean).join(", ") || "—"}`);
}

async function onCreate(event) {
  event.preventDefault();
  if (!writer) return;
  const id = $("new-id").value.trim();
  const title = $("new-title").value.trim();
  const body = {
    ...(title ? { title } : {}),
    home: { name: $("new-home").value.trim() },
    away: { name: $("new-away").value.trim() },
  };
  say("Creating…");
  const result = await writer.send(writer.createIntent(id, body));
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
el.board.addEventListener("click", onTap);
el.statuses.addEventListener("click", onStatus);
el.clockForm.addEventListener("submit", onClock);
el.retry.addEventListener("click", () => {
  if (failedIntent) perform(failedIntent.intent, failedIntent.button, failedIntent.doneText);
});
addEventListener("hashchange", () => {
  const id = hashId();
  if (writer && id !== (game?.id ?? "")) choose(id);
});
// A scorer's phone should not lock itself mid-match; where the browser allows it.
addEventListener("click", () => navigator.wakeLock?.request("screen").catch(() => {}), {
  once: true,
});

const saved = storage()?.getItem(TOKEN_KEY);
if (saved) start(saved);
else askForToken();
