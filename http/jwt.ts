/**
 * JWT bearers, verified with the `jose` library: HS256 with `SCORELINE_JWT_SECRET`, and RS256,
 * ES256 and EdDSA with the keys of `SCORELINE_JWKS_URL`. Only those algorithms are accepted (never
 * `none`, and never a JWKS key as an HMAC secret); `exp` is required, `aud` must match when an
 * audience is configured, and the `scoreline` claim is the write scope.
 *
 * The key set is fetched once, cached, fetched again when it is ten minutes old or when a token
 * names a key it does not hold (a rotation), and never more often than every 30 s for unknown
 * keys: an attacker sending random `kid`s must not turn the service into a flood on the identity
 * provider. A key set that cannot be fetched is a 503 (try again), not a 401 (your token is bad).
 */
import { createLocalJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { jwtPrincipal, type Principal, scopeOfClaim } from "../core/auth.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import type { JwtSettings } from "../config.ts";

/** The algorithms a key set may sign with (API.md, Trust and operations). */
export const JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;
/** The one algorithm for `SCORELINE_JWT_SECRET`. */
export const SECRET_ALGORITHM = "HS256";

export interface KeySetTiming {
  /** A fetch that has not answered within this is a failure. */
  timeoutMs: number;
  /** A key set this old is fetched again on its next use (kept if that fails). */
  maxAgeMs: number;
  /** An unknown `kid` fetches the set again only this long after the last fetch. */
  unknownKidCooldownMs: number;
  /** After a failed fetch, the next one waits this long; JWT writes get 503 meanwhile. */
  retryAfterFailureMs: number;
}

export const DEFAULT_KEY_SET_TIMING: KeySetTiming = {
  timeoutMs: 5_000,
  maxAgeMs: 10 * 60_000,
  unknownKidCooldownMs: 30_000,
  retryAfterFailureMs: 5_000,
};

/** A key set larger than this is refused: a real one is a few KiB. */
const MAX_KEY_SET_BYTES = 512 * 1024;
/** `sub` and `iss` are logged and stored: a claim beyond this is not a name. */
const MAX_NAME_LENGTH = 256;
/** Clock skew allowed on `exp` and `nbf`, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** The key set cannot be had now: a 503 with `Retry-After`, never a 401. */
export class KeySetUnavailableError extends Error {
  constructor(readonly retryAfter: number) {
    super("the JWT signing keys cannot be fetched now");
    this.name = "KeySetUnavailableError";
  }
}

export type JwtResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: string };

export interface JwtVerifierOptions {
  clock: Clock;
  log: Logger;
  fetch?: typeof fetch;
  timing?: Partial<KeySetTiming>;
}

/** Fetches, caches and refreshes one JWKS URL, as described at the top of this file. */
class RemoteKeySet {
  #keys: JWTVerifyGetKey | null = null;
  #fetchedAt = -Infinity;
  #attemptAt = -Infinity;
  #failed = false;
  #inflight: Promise<void> | null = null;
  #closing = new AbortController();

  constructor(
    private readonly url: URL,
    private readonly timing: KeySetTiming,
    private readonly options: JwtVerifierOptions,
  ) {}

  /** The key for a token's header; throws KeySetUnavailableError when the set cannot be had. */
  readonly key: JWTVerifyGetKey = async (header, token) => {
    const now = this.options.clock.now();
    if (this.#keys === null || now - this.#fetchedAt >= this.timing.maxAgeMs) {
      await this.#refresh(false);
    }
    try {
      return await this.#keys!(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      await this.#refresh(true);
      return await this.#keys!(header, token);
    }
  };

  /** The next fetch is allowed from this time on. */
  #nextFetchAt(): number {
    return this.#attemptAt +
      (this.#failed ? this.timing.retryAfterFailureMs : this.timing.unknownKidCooldownMs);
  }

  /**
   * Fetches the set again when allowed (one fetch at a time, shared by every waiting request).
   * Afterwards: keys to use, or KeySetUnavailableError when there are none, or when `strict`
   * (an unknown kid) and the latest fetch failed. A strict refresh that is not allowed yet after
   * a good fetch changes nothing: the kid is unknown, a 401.
   */
  async #refresh(strict: boolean): Promise<void> {
    if (this.#inflight === null) {
      const now = this.options.clock.now();
      if (now >= this.#nextFetchAt()) {
        this.#attemptAt = now;
        this.#inflight = this.#fetch().then((keys) => {
          this.#keys = keys;
          this.#fetchedAt = this.options.clock.now();
          this.#failed = false;
        }, (error) => {
          this.#failed = true;
          if (!this.#closing.signal.aborted) {
            this.options.log.warn("the JWT key set could not be fetched", {
              url: shownUrl(this.url),
              error: String(error instanceof Error ? error.message : error),
            });
          }
        }).finally(() => (this.#inflight = null));
      }
    }
    if (this.#inflight !== null) await this.#inflight;
    if (this.#failed && (this.#keys === null || strict)) {
      const wait = this.#nextFetchAt() - this.options.clock.now();
      throw new KeySetUnavailableError(Math.max(1, Math.ceil(wait / 1000)));
    }
  }

  async #fetch(): Promise<JWTVerifyGetKey> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timing.timeoutMs);
    const stop = () => controller.abort();
    this.#closing.signal.addEventListener("abort", stop);
    try {
      const response = await (this.options.fetch ?? fetch)(this.url, {
        signal: controller.signal,
        headers: { accept: "application/jwk-set+json, application/json" },
      });
      const text = await readBounded(response, MAX_KEY_SET_BYTES);
      if (!response.ok) throw new Error(`the key set URL answered ${response.status}`);
      return createLocalJWKSet(JSON.parse(text));
    } catch (error) {
      if (controller.signal.aborted) {
        throw new Error(`no answer within ${this.timing.timeoutMs} ms`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.#closing.signal.removeEventListener("abort", stop);
    }
  }

  /** Fetches the set now unless it is held or being fetched: warms the cache at start-up. */
  async warm(): Promise<boolean> {
    if (this.#keys === null) await this.#refresh(false).catch(() => {});
    return this.#keys !== null;
  }

  /** Aborts a fetch in flight; the service is stopping. */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#inflight;
  }
}

/** A URL as logs may show it: no password or query, which may hold a credential. */
export function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** A response body as text, refused past `limit` bytes without reading the rest. */
async function readBounded(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`the key set is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** What a failed verification says in the 401: the kind of failure, never the token. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the JWT has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "the JWT is not valid yet (nbf)";
    if (error.claim === "aud") return "the JWT is for another audience (aud)";
    if (error.claim === "exp") return "the JWT has no valid exp";
    return `the JWT's ${error.claim} claim is not valid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return `the JWT's algorithm is not one of ${
      [SECRET_ALGORITHM, ...JWKS_ALGORITHMS].join(", ")
    } as configured`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "the JWT's signature does not verify";
  }
  if (
    error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return "no key of the key set matches the JWT's kid and alg";
  }
  return "the JWT is malformed";
}

/** A name claim (`sub`, `iss`) that may be logged and stored: a short string without controls. */
function nameOk(value: unknown): value is string | undefined {
  return value === undefined || (typeof value === "string" && value.length > 0 &&
    value.length <= MAX_NAME_LENGTH && !/\p{Cc}/u.test(value));
}

/** Verifies JWT bearers; one per service. */
export class JwtVerifier {
  readonly #settings: JwtSettings;
  readonly #remote: RemoteKeySet | null;
  readonly #algorithms: string[];
  readonly #clock: Clock;

  constructor(settings: JwtSettings, options: JwtVerifierOptions) {
    this.#settings = settings;
    const timing = { ...DEFAULT_KEY_SET_TIMING, ...options.timing };
    this.#remote = settings.jwksUrl ? new RemoteKeySet(settings.jwksUrl, timing, options) : null;
    this.#algorithms = [
      ...(settings.secret ? [SECRET_ALGORITHM] : []),
      ...(settings.jwksUrl ? JWKS_ALGORITHMS : []),
    ];
    this.#clock = options.clock;
  }

  /**
   * The principal of a JWT, or why it is refused. Throws KeySetUnavailableError when the key set
   * is needed and cannot be fetched.
   */
  async verify(token: string): Promise<JwtResult> {
    const secret = this.#settings.secret;
    const remote = this.#remote;
    // The key follows the algorithm: HS256 only ever gets the secret, the others only the key
    // set, so a public key can never be used as an HMAC secret (algorithm confusion).
    const key: JWTVerifyGetKey = (header, jws) =>
      header.alg === SECRET_ALGORITHM && secret ? secret : remote!.key(header, jws);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: this.#algorithms,
        requiredClaims: ["exp"],
        audience: this.#settings.audience ?? undefined,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.#clock.now()),
      }));
    } catch (error) {
      if (error instanceof KeySetUnavailableError) throw error;
      return { ok: false, reason: reasonOf(error) };
    }
    const writes = scopeOfClaim(payload.scoreline);
    if (writes === null) {
      return {
        ok: false,
        reason: 'the JWT has no valid scoreline claim ("*" or {"games": [...], ' +
          '"competitions": [...]})',
      };
    }
    if (!nameOk(payload.sub) || !nameOk(payload.iss)) {
      return { ok: false, reason: `the JWT's sub or iss is not a string of 1-256 characters` };
    }
    return { ok: true, principal: jwtPrincipal(payload, token, writes) };
  }

  /** Fetches the key set ahead of the first JWT write; false when it could not be had. */
  warm(): Promise<boolean> {
    return this.#remote?.warm() ?? Promise.resolve(true);
  }

  close(): Promise<void> {
    return this.#remote?.close() ?? Promise.resolve();
  }
}
