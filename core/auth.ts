/**
 * Bearer tokens for writes. Tokens are compared as SHA-256 digests with timingSafeEqual, against
 * every configured token without stopping at a match, so the time taken tells an attacker
 * neither how much of a guess was right nor which token matched.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** A write token and the games it may write (null: every game), as configured. */
export interface TokenGrant {
  token: string;
  games: ReadonlySet<string> | null;
}

/** Who is writing: an opaque scope (for idempotency keys and rate limits) and their games. */
export interface Principal {
  /** Hex SHA-256 of the token: stable across restarts, never the token itself. */
  scope: string;
  /** The games this token may write; null for every game. */
  games: ReadonlySet<string> | null;
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

export class TokenVerifier {
  #grants: { digest: Buffer; principal: Principal }[];

  constructor(grants: readonly TokenGrant[]) {
    this.#grants = grants.map((grant) => {
      const hash = digest(grant.token);
      return { digest: hash, principal: { scope: hash.toString("hex"), games: grant.games } };
    });
  }

  /** The principal for an `Authorization` header value, or null when it grants nothing. */
  verify(authorization: string | undefined): Principal | null {
    const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(authorization ?? "");
    if (!match?.[1]) return null;
    const presented = digest(match[1]);
    let found: Principal | null = null;
    for (const grant of this.#grants) {
      if (timingSafeEqual(presented, grant.digest)) found = grant.principal;
    }
    return found;
  }
}

/** Whether the principal may write this game. */
export function mayWrite(principal: Principal, id: string): boolean {
  return principal.games === null || principal.games.has(id);
}
