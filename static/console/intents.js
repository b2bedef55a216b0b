// The scorer's taps as *intents*, on top of the client library's Scorer (served as /client.js).
//
// The Scorer already gives every call an Idempotency-Key and retries it with that same key after
// a network error or a 503, so a lost answer never counts a goal twice. What it cannot know is
// what the scorer *meant*, which this module keeps:
// - a tap is "this change, to the game as I saw it" (`If-Match: "<version on screen>"`), so two
//   scorers who both record the same goal cannot both add it: the second gets 412;
// - a second tap on the same change of the same version on screen (a double tap, a nervous
//   repeat) is the same intent with the same key, so the server counts it once;
// - a change whose answer never came, even after the Scorer's retries (the service was
//   restarting, the phone was between cells), stays pending and is sent again, with its key,
//   when the feed is live again or the scorer says so.
// It takes the Scorer as a parameter (no import), so it runs under Deno's tests as it is.

/**
 * A random Idempotency-Key. crypto.getRandomValues, unlike crypto.randomUUID, also works on a
 * plain-http page (a phone on the venue's Wi-Fi talking to http://192.168.x.y:8080).
 */
export function randomKey(crypto = globalThis.crypto) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The Scorer methods an intent may call, with the write they make. */
const ACTIONS = new Set(["score", "event", "removeEvent", "timer", "patch", "put"]);

/** Turns taps into Scorer calls that count once. */
export class Intents {
  #scorer;
  #makeKey;
  /** Intents by (game, version, change): the same tap on the same state is the same intent. */
  #intents = new Map();
  /** Intents on the wire: a second send of one joins the first instead of racing it. */
  #inFlight = new Map();
  /** Intents sent without an answer: sent again, with the same key, by `resendPending()`. */
  #pending = new Set();

  /** `scorer`: a client library Scorer (or anything with its methods). */
  constructor({ scorer, makeKey = randomKey }) {
    this.#scorer = scorer;
    this.#makeKey = makeKey;
  }

  /**
   * The intent to call `scorer[action](game.id, ...args)` on `game` as last seen. With
   * `ifMatch` (the default) it is sent with `If-Match` of the version seen; without, it applies
   * to whatever the game is then (a timer start or stop: already started is started).
   * Asking twice for the same change of the same version gives the same intent, key included.
   */
  intent(game, action, args = [], { ifMatch = true } = {}) {
    if (!ACTIONS.has(action)) throw new TypeError(`unknown action ${action}`);
    const id = `${game.id}@${game.version} ${action} ${JSON.stringify(args)} ${ifMatch}`;
    let intent = this.#intents.get(id);
    if (!intent) {
      intent = {
        id,
        game: game.id,
        version: game.version,
        action,
        args,
        opts: ifMatch ? { ifMatch: game.version } : {},
        key: this.#makeKey(),
        answered: false,
      };
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
      action: "put",
      args: [body],
      opts: { ifNoneMatch: "*" },
      key: this.#makeKey(),
      answered: false,
    };
  }

  /** Intents whose answer never came, oldest first. */
  get pending() {
    return [...this.#pending];
  }

  /**
   * Sends an intent (again) and resolves to what the console should do (never rejects):
   * `ok` (with `game`; `replayed` when this intent was answered before), `conflict` (412: the
   * game changed first), `unauthorized`, `forbidden`, `gone` (404), `failed` (no answer even
   * after the Scorer's retries: pending) or `refused` (any other 4xx, with its problem).
   * Concurrent sends of one intent share one request.
   */
  send(intent) {
    let pending = this.#inFlight.get(intent);
    if (!pending) {
      pending = this.#attempt(intent).finally(() => this.#inFlight.delete(intent));
      this.#inFlight.set(intent, pending);
    }
    return pending;
  }

  /** Sends every pending intent again, one after the other (each with its own key). */
  async resendPending() {
    const results = [];
    for (const intent of this.pending) results.push([intent, await this.send(intent)]);
    return results;
  }

  async #attempt(intent) {
    const replayed = intent.answered;
    let result;
    try {
      const game = await this.#scorer[intent.action](intent.game, ...intent.args, {
        ...intent.opts,
        idempotencyKey: intent.key,
      });
      result = { kind: "ok", game, replayed, created: intent.action === "put" && !replayed };
    } catch (error) {
      result = outcome(error);
    }
    if (result.kind === "failed") this.#pending.add(intent);
    else {
      // Answered (whatever the answer): the key has done its work, nothing is left to send.
      intent.answered = true;
      this.#pending.delete(intent);
    }
    return result;
  }

  #forgetOlderThan(gameId, version) {
    for (const [id, intent] of this.#intents) {
      if (intent.game === gameId && intent.version < version && !this.#pending.has(intent)) {
        this.#intents.delete(id);
      }
    }
  }
}

/** What a Scorer's rejection means for the scorer. */
function outcome(error) {
  const status = typeof error?.status === "number" ? error.status : null;
  const detail = error?.problem?.detail ?? error?.message ?? String(error);
  if (status === null || status === 408 || status === 409 || status === 429 || status >= 500) {
    // No answer (or only "try later") after every retry: the write may or may not have happened.
    // Only the same key makes sending it again safe, which is why the intent keeps it.
    return { kind: "failed", detail: status === null ? "no answer from the server" : detail };
  }
  if (status === 412) return { kind: "conflict", detail };
  if (status === 401) return { kind: "unauthorized", detail };
  if (status === 403) return { kind: "forbidden", detail };
  if (status === 404) return { kind: "gone", detail };
  return { kind: "refused", status, detail, errors: error?.problem?.errors ?? [] };
}
