/**
 * Who is writing, from the `Authorization` header: a static token (from `SCORELINE_TOKENS` and
 * `SCORELINE_TOKENS_FILE`) or a JWT. The static tokens can be replaced while the service runs (the
 * token file is re-read on SIGHUP and when it changes): only this verifier changes, so open feeds
 * and writes in flight are untouched, and a write is checked against the tokens in force when it
 * arrives.
 */
import {
  bearerOf,
  looksLikeJwt,
  MAX_BEARER_LENGTH,
  type Principal,
  type TokenGrant,
  TokenVerifier,
} from "../core/auth.ts";
import type { JwtVerifier } from "./jwt.ts";
import { KeySetUnavailableError } from "./jwt.ts";
import { HttpProblem } from "./problem.ts";

function unauthorized(detail: string, sent: boolean): HttpProblem {
  return new HttpProblem("unauthorized", detail, {
    headers: { "www-authenticate": sent ? 'Bearer error="invalid_token"' : "Bearer" },
  });
}

export class Credentials {
  readonly #env: readonly TokenGrant[];
  readonly #jwt: JwtVerifier | null;
  #verifier: TokenVerifier;
  #fileTokens = 0;

  constructor(options: { tokens: readonly TokenGrant[]; jwt: JwtVerifier | null }) {
    this.#env = options.tokens;
    this.#jwt = options.jwt;
    this.#verifier = new TokenVerifier(this.#env);
  }

  /** The tokens of `SCORELINE_TOKENS`: a token file may not list them again. */
  get reserved(): ReadonlySet<string> {
    return new Set(this.#env.map((grant) => grant.token));
  }

  /** How many static tokens are in force, and how many of them come from the token file. */
  get counts(): { tokens: number; fromFile: number } {
    return { tokens: this.#verifier.size, fromFile: this.#fileTokens };
  }

  /**
   * Puts the token file's grants in force beside `SCORELINE_TOKENS`, replacing the file's
   * previous ones. One assignment: a request sees the old set or the new one, never a mix.
   */
  replaceFileTokens(grants: readonly TokenGrant[]): void {
    this.#verifier = new TokenVerifier([...this.#env, ...grants]);
    this.#fileTokens = grants.length;
  }

  /**
   * The principal of a write, or the HttpProblem to answer: 401 (no, unknown, malformed, bad or
   * expired token), or 503 when a JWT's key set cannot be fetched.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const bearer = bearerOf(authorization);
    if (bearer.kind === "none") throw unauthorized("send Authorization: Bearer <token>", false);
    if (bearer.kind === "malformed") {
      throw unauthorized(
        `the Authorization header is not Bearer and a token of at most ${MAX_BEARER_LENGTH} characters`,
        true,
      );
    }
    const principal = this.#verifier.verify(bearer.value);
    if (principal) return principal;
    if (this.#jwt === null || !looksLikeJwt(bearer.value)) {
      throw unauthorized("the bearer token is not valid", true);
    }
    let result;
    try {
      result = await this.#jwt.verify(bearer.value);
    } catch (error) {
      if (!(error instanceof KeySetUnavailableError)) throw error;
      throw new HttpProblem("unavailable", error.message, {
        headers: { "retry-after": String(error.retryAfter) },
      });
    }
    if (!result.ok) throw unauthorized(result.reason, true);
    return result.principal;
  }

  /** Fetches a JWT key set ahead of the first write (main.ts, at start-up). */
  warm(): Promise<boolean> {
    return this.#jwt?.warm() ?? Promise.resolve(true);
  }

  close(): Promise<void> {
    return this.#jwt?.close() ?? Promise.resolve();
  }
}
