/**
 * Who is asking, for the routes that need a token: writes, and the operator's routes (export,
 * import, history). A missing or unknown token is 401 with `WWW-Authenticate`; the routes that
 * act on the whole board refuse a token scoped to some games (403).
 */
import { type Principal, TokenVerifier } from "../core/auth.ts";
import type { Config } from "../config.ts";
import { HttpProblem } from "./problem.ts";

export type { Principal };

/** The verifier of the configured tokens. */
export function tokenVerifier(config: Pick<Config, "tokens">): TokenVerifier {
  return new TokenVerifier(config.tokens);
}

/** The principal for the request's `Authorization`, or a 401 problem. */
export function authenticate(
  verifier: TokenVerifier,
  authorization: string | undefined,
): Principal {
  const principal = verifier.verify(authorization);
  if (!principal) {
    const sent = authorization !== undefined;
    throw new HttpProblem(
      "unauthorized",
      sent ? "the bearer token is not valid" : "send Authorization: Bearer <token>",
      { headers: { "www-authenticate": sent ? 'Bearer error="invalid_token"' : "Bearer" } },
    );
  }
  return principal;
}

/**
 * Who a principal is in the log and in a game's history: the first 12 hex digits of the token's
 * SHA-256, which tell scorers apart without giving anything usable away. Never the token.
 */
export function whoOf(principal: Principal): string {
  return principal.scope.slice(0, 12);
}

/**
 * 403 unless the token may write every game: export, import and history act on (or show) the
 * whole board, which a scorer of one match has no business with.
 */
export function requireUnscoped(principal: Principal, what: string): void {
  if (principal.games !== null) {
    throw new HttpProblem("forbidden", `only a token for every game may ${what}`);
  }
}
