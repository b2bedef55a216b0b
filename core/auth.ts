/**
 * Who may write what: principals (a static token or a verified JWT), their write scope (every
 * game, or some games and the games of some competitions), and the decisions on it. Pure: the
 * HTTP side (http/auth.ts) finds the principal, these functions decide.
 *
 * Static tokens are compared as SHA-256 digests with timingSafeEqual, against every configured
 * token without stopping at a match, so the time taken tells an attacker neither how much of a
 * guess was right nor which token matched.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { GAME_ID_PATTERN } from "./schema.ts";
import type { Game, GameBody } from "./schema.ts";
import type { Decision, Mutation } from "./scoreboard.ts";

/** What a principal may write: every game (`"*"`), or these games and these competitions' games. */
export type WriteScope =
  | "*"
  | { games: ReadonlySet<string>; competitions: ReadonlySet<string> };

/** The scope of an unscoped token. */
export const ALL_GAMES = "*" satisfies WriteScope;

/** A static write token and what it may write, as configured. */
export interface TokenGrant {
  token: string;
  writes: WriteScope;
}

/** Who is writing. Never holds the token itself, so it can be logged and stored. */
export interface Principal {
  /**
   * The namespace of this principal's Idempotency-Keys and its write-rate bucket: a hex SHA-256,
   * stable across restarts. For a JWT it is the subject's, so a scorer whose app fetches a fresh
   * JWT between a lost answer and its retry still gets the first answer.
   */
  scope: string;
  /** For logs and the audit: `token:<12 hex digits of the token's SHA-256>` or `jwt:<sub>`. */
  who: string;
  /** True when it may write every game: what export, import and history require. */
  unscoped: boolean;
  writes: WriteScope;
}

/** A bearer token longer than this is refused unread: nobody's token is, and parsing costs. */
export const MAX_BEARER_LENGTH = 8192;

export type Bearer =
  | { kind: "none" }
  | { kind: "malformed" }
  | { kind: "token"; value: string };

/** The token of an `Authorization: Bearer <token>` header, bounded in size. */
export function bearerOf(authorization: string | undefined): Bearer {
  if (authorization === undefined) return { kind: "none" };
  if (authorization.length > MAX_BEARER_LENGTH + 16) return { kind: "malformed" };
  const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(authorization);
  if (!match?.[1] || match[1].length > MAX_BEARER_LENGTH) return { kind: "malformed" };
  return { kind: "token", value: match[1] };
}

/** A JWS in compact form: three base64url parts. Anything else is never handed to a JWT parser. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The hex SHA-256 of a token: what stands for it wherever it must be told apart from others. */
export function tokenDigest(token: string): string {
  return digest(token).toString("hex");
}

function isUnscoped(writes: WriteScope): boolean {
  return writes === ALL_GAMES;
}

/** The static tokens in force, checked in constant time. */
export class TokenVerifier {
  #grants: { digest: Buffer; principal: Principal }[];

  constructor(grants: readonly TokenGrant[]) {
    this.#grants = grants.map((grant) => {
      const hash = digest(grant.token);
      const hex = hash.toString("hex");
      return {
        digest: hash,
        principal: {
          scope: hex,
          who: `token:${hex.slice(0, 12)}`,
          unscoped: isUnscoped(grant.writes),
          writes: grant.writes,
        },
      };
    });
  }

  get size(): number {
    return this.#grants.length;
  }

  /** The principal of a presented token, or null when it is none of the configured ones. */
  verify(token: string): Principal | null {
    const presented = digest(token);
    let found: Principal | null = null;
    for (const grant of this.#grants) {
      if (timingSafeEqual(presented, grant.digest)) found = grant.principal;
    }
    return found;
  }
}

/**
 * The principal of a verified JWT. Its idempotency scope follows the subject (and issuer), or the
 * token itself when it has no `sub`.
 */
export function jwtPrincipal(
  claims: { sub?: string; iss?: string },
  token: string,
  writes: WriteScope,
): Principal {
  const scope = claims.sub === undefined
    ? tokenDigest(token)
    : tokenDigest(`jwt\u0000${claims.iss ?? ""}\u0000${claims.sub}`);
  return {
    scope,
    who: claims.sub === undefined ? `jwt:#${scope.slice(0, 12)}` : `jwt:${claims.sub}`,
    unscoped: isUnscoped(writes),
    writes,
  };
}

const MAX_SCOPE_ITEMS = 1000;
const scopeId = z.string().regex(GAME_ID_PATTERN);
const claimSchema = z.union([
  z.literal("*"),
  z.strictObject({
    games: z.array(scopeId).max(MAX_SCOPE_ITEMS).optional(),
    competitions: z.array(scopeId).max(MAX_SCOPE_ITEMS).optional(),
  }),
]);

/**
 * The JWT claim `scoreline`: `"*"` or `{"games": [...], "competitions": [...]}` (either list may
 * be left out; unknown keys are refused). Null when it is missing or malformed, which is a 401:
 * a token whose scope cannot be read grants nothing.
 */
export function scopeOfClaim(claim: unknown): WriteScope | null {
  const parsed = claimSchema.safeParse(claim);
  if (!parsed.success) return null;
  if (parsed.data === "*") return ALL_GAMES;
  return {
    games: new Set(parsed.data.games ?? []),
    competitions: new Set(parsed.data.competitions ?? []),
  };
}

/** What can be decided before the game is read. */
export type Access = "granted" | "denied" | "by-competition";

/**
 * The decision on a game id alone: granted (every game, or this game listed), denied (neither,
 * and no competition that could hold it), or by-competition, which only the game's competition
 * as it stands at the commit can settle (see `withinScope`).
 */
export function writeAccess(principal: Principal, gameId: string): Access {
  const { writes } = principal;
  if (writes === ALL_GAMES || writes.games.has(gameId)) return "granted";
  return writes.competitions.size > 0 ? "by-competition" : "denied";
}

/**
 * Whether the principal may write this game, which belongs to `competition` (undefined: to
 * none, or not known, which grants nothing by competition).
 */
export function mayWrite(
  principal: Principal,
  gameId: string,
  competition: string | undefined,
): boolean {
  const access = writeAccess(principal, gameId);
  if (access !== "by-competition") return access === "granted";
  return competition !== undefined &&
    principal.writes !== ALL_GAMES && principal.writes.competitions.has(competition);
}

/**
 * The competition a game (or a game body about to be stored) belongs to. Read defensively: a
 * game without a `competition` string belongs to none.
 */
export function competitionOf(game: Game | GameBody | undefined): string | undefined {
  const competition = (game as { competition?: unknown } | undefined)?.competition;
  return typeof competition === "string" ? competition : undefined;
}

const FORBIDDEN: Decision = {
  kind: "reject",
  rejection: { code: "forbidden", detail: "this token may not write this game's competition" },
};

/**
 * A write restricted to the principal's scope, decided inside the store's commit against the game
 * as it is then. Checked there and not before, because a game's competition can change under a
 * request: deleted and re-created in another competition between a check and the commit, a
 * game would otherwise be written by a scorer of the first competition. A principal must be
 * allowed the game as it stands and as it will be stored; a write that stores nothing (a 404, a
 * 412) needs no scope.
 */
export function withinScope(principal: Principal, gameId: string, mutate: Mutation): Mutation {
  if (writeAccess(principal, gameId) === "granted") return mutate;
  return (current, nowMs) => {
    if (current && !mayWrite(principal, gameId, competitionOf(current))) return FORBIDDEN;
    const decision = mutate(current, nowMs);
    if (decision.kind === "put" && !mayWrite(principal, gameId, competitionOf(decision.body))) {
      return FORBIDDEN;
    }
    return decision;
  };
}
