// The scorer console's writes, kept apart from the page so they can be tested without a browser.
//
// A tap is an *intent*: "this change, to the game as I saw it". Each intent carries
// `If-Match: "<version the scorer saw>"` and its own `Idempotency-Key`, so:
// - a double tap, or a retry after a network error, sends the same key and the server answers
//   with the first result instead of counting twice;
// - two scorers who both record the same goal cannot both add it: the second write is based on
//   a version that no longer exists and gets 412, and the console shows the new score instead.

/** Waits between automatic retries of a write whose answer did not arrive (ms). */
export const RETRY_DELAYS_MS = [400, 1000, 2500];
/** The longest Retry-After the console waits by itself (ms); past that the scorer decides. */
const MAX_RETRY_AFTER_MS = 5000;

/**
 * A random Idempotency-Key. crypto.getRandomValues, unlike crypto.randomUUID, also works on a
 * plain-http page (a phone on the venue's Wi-Fi talking to http://192.168.x.y:8080).
 */
export function randomKey(crypto = globalThis.crypto) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Turns intents into HTTP writes with the console's safety rules. */
export class Writer {
  #token;
  #fetch;
  #wait;
  #base;
  #retryDelays;
  #makeKey;
  /** Intents by (game, version, change): the same tap on the same state is the same intent. */
  #intents = new Map();
  /** Intents on the wire: a second send of one joins the first instead of racing it. */
  #inFlight = new Map();

  constructor({
    token,
    fetch = globalThis.fetch.bind(globalThis),
    wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    base = "",
    retryDelays = RETRY_DELAYS_MS,
    makeKey = randomKey,
  }) {
    this.#token = token;
    this.#fetch = fetch;
    this.#wait = wait;
    this.#base = base;
    this.#retryDelays = retryDelays;
    this.#makeKey = makeKey;
  }

  /**
   * The intent to change `game` (as last seen, with its version) by `method` and `body`.
   * Asking twice for the same change of the same version gives the same intent, key included.
   */
  intent(game, method, path, body) {
    const id = `${game.id}@${game.version} ${method} ${path} ${JSON.stringify(body ?? null)}`;
    let intent = this.#intents.get(id);
    if (!intent) {
      intent = { id, game: game.id, method, path, body, ifMatch: `"${game.version}"` };
      intent.key = this.#makeKey();
      this.#intents.set(id, intent);
      this.#forgetOlderThan(game.id, game.version);
    }
    return intent;
  }

  /** An intent that creates a game: `If-None-Match: *`, so it never overwrites one. */
  createIntent(id, body) {
    return {
      id: `create ${id} ${JSON.stringify(body)}`,
      game: id,
      method: "PUT",
      path: `/api/games/${encodeURIComponent(id)}`,
      body,
      ifNoneMatch: "*",
      key: this.#makeKey(),
    };
  }

  /** Sends an intent (again); concurrent sends of one intent share one request. */
  send(intent) {
    let pending = this.#inFlight.get(intent);
    if (!pending) {
      pending = this.#attempt(intent).finally(() => this.#inFlight.delete(intent));
      this.#inFlight.set(intent, pending);
    }
    return pending;
  }

  async #attempt(intent) {
    for (let attempt = 0;; attempt++) {
      const result = await this.#once(intent);
      if (!result.retryable || attempt >= this.#retryDelays.length) return result;
      const delay = result.retryAfterMs ?? this.#retryDelays[attempt];
      if (delay > MAX_RETRY_AFTER_MS) return result;
      await this.#wait(delay);
    }
  }

  async #once(intent) {
    const headers = {
      "authorization": `Bearer ${this.#token}`,
      "idempotency-key": intent.key,
    };
    if (intent.ifMatch) headers["if-match"] = intent.ifMatch;
    if (intent.ifNoneMatch) headers["if-none-match"] = intent.ifNoneMatch;
    if (intent.body !== undefined) headers["content-type"] = "application/json";
    let response;
    let payload = null;
    try {
      response = await this.#fetch(this.#base + intent.path, {
        method: intent.method,
        headers,
        body: intent.body === undefined ? undefined : JSON.stringify(intent.body),
        cache: "no-store",
      });
      const text = await response.text();
      if (text) payload = JSON.parse(text);
    } catch (error) {
      // No answer (or half of one): the write may or may not have happened. Only the same key
      // makes a retry safe, which is why the intent keeps it.
      return {
        kind: "failed",
        retryable: true,
        detail: `no answer from the server (${error?.message ?? error})`,
      };
    }
    return outcome(response, payload);
  }

  #forgetOlderThan(gameId, version) {
    for (const [id, intent] of this.#intents) {
      if (intent.game === gameId && Number(intent.ifMatch?.slice(1, -1)) < version) {
        this.#intents.delete(id);
      }
    }
  }
}

/** What the console should do with an answer. */
function outcome(response, payload) {
  const status = response.status;
  const replayed = response.headers.get("idempotent-replayed") === "true";
  const detail = payload?.detail ?? `HTTP ${status}`;
  if (status === 200 || status === 201) {
    return {
      kind: "ok",
      game: payload,
      version: payload.version,
      replayed,
      created: status === 201,
    };
  }
  if (status === 204) {
    return { kind: "deleted", version: Number(response.headers.get("etag")?.slice(1, -1)) };
  }
  if (status === 412) return { kind: "conflict", detail, replayed };
  if (status === 401) return { kind: "unauthorized", detail };
  if (status === 403) return { kind: "forbidden", detail };
  if (status === 404) return { kind: "gone", detail };
  const retryAfter = Number(response.headers.get("retry-after"));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0
    ? retryAfter * 1000
    : undefined;
  // 409: the first request with this key is still running; 429: too fast; 5xx: try again.
  if (status === 409 || status === 429 || status >= 500) {
    return { kind: "failed", retryable: true, retryAfterMs, detail };
  }
  return { kind: "refused", status, detail, errors: payload?.errors ?? [] };
}
