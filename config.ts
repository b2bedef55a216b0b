/**
 * The only reader of the environment. Every variable is validated here, and a bad one stops
 * start-up with one line that names it, instead of a surprise at the first request.
 */
import { z } from "zod";
import { type Cidr, DEFAULT_IPV6_PREFIX, parseCidr } from "./core/address.ts";
import { ALL_GAMES, type TokenGrant } from "./core/auth.ts";
import type { LogLevel } from "./core/log.ts";
import { describeEntryErrors, parseTokenList } from "./core/token_entries.ts";

export interface Config {
  port: number;
  host: string;
  /** The tokens of SCORELINE_TOKENS (or the generated one). */
  tokens: TokenGrant[];
  /** SCORELINE_TOKENS_FILE: more tokens, one entry a line, re-read while the service runs. */
  tokensFile: string | null;
  /** JWT bearers, when a secret or a key set URL is configured. */
  jwt: JwtSettings | null;
  /**
   * Set when no way to write was configured (no tokens, no token file, no JWT) and a token was
   * made up for this run; print it once.
   */
  generatedToken: string | null;
  /** Path of the SQLite file, or ":memory:". */
  dataPath: string;
  redisUrl: string | null;
  heartbeatSeconds: number;
  writeOrigins: string[];
  /** Writes a second per token; 0 turns the limit off. Bursts of twice this are allowed. */
  writeRate: number;
  feedsPerClient: number;
  maxFeeds: number;
  /** New feeds a second per client address, bursts of twice that; 0 turns the limit off. */
  feedRate: number;
  /** Open WebSockets per client address and in all: each may make Deno buffer a 64 MiB frame. */
  wsPerClient: number;
  maxWebSockets: number;
  trustProxy: boolean;
  /** Proxies whose X-Forwarded-For is believed: the client is the rightmost address not in them. */
  trustedProxies: Cidr[];
  /** Leading bits of an IPv6 address that name one client (64: a site's whole /64). */
  ipv6Prefix: number;
  /**
   * Deno pings a silent WebSocket and closes it when no pong comes back within this many seconds:
   * how a phone that vanished without closing gives its feed slot back.
   */
  wsIdleTimeoutSeconds: number;
  logLevel: LogLevel;
}

export interface JwtSettings {
  /** The HS256 secret: the UTF-8 bytes of SCORELINE_JWT_SECRET. */
  secret: Uint8Array | null;
  /** SCORELINE_JWKS_URL: the key set for RS256, ES256 and EdDSA. */
  jwksUrl: URL | null;
  /** SCORELINE_JWT_AUDIENCE: when set, a JWT's `aud` must be (or contain) it. */
  audience: string | null;
}

/** Bad configuration: one line per variable, each naming it. */
export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "ConfigError";
  }
}

/** HS256 wants a key at least as long as its hash (RFC 7518, 3.2): 256 bits. */
const MIN_JWT_SECRET_BYTES = 32;

/** Variables whose values are secrets (or may hold one, as a URL's password): never echoed. */
const SECRET_VARIABLES = new Set([
  "SCORELINE_TOKENS",
  "SCORELINE_JWT_SECRET",
  "SCORELINE_REDIS_URL",
  "SCORELINE_JWKS_URL",
]);

/**
 * A crowd behind one address (stadium Wi-Fi, carrier NAT) must get its feeds: 1,000 viewers from
 * one address are served, and abuse is held back by SCORELINE_FEED_RATE and the total cap.
 */
const DEFAULT_FEEDS_PER_CLIENT = 1_000;
/**
 * Deno buffers each incoming WebSocket frame whole, up to 64 MiB, before the service can count
 * it, and no option lowers that: measured, one such frame costs the process about 120 MiB and a
 * second of stall (SECURITY.md). So one address may hold 4 sockets (about 0.5 GiB at worst); a
 * crowd behind one address uses Server-Sent Events beyond that. The total is the operator's to
 * size to the memory they can spare (SCORELINE_MAX_WEBSOCKETS × 120 MiB); the default leaves
 * WebSocket, the cheapest transport per viewer, to everyone below the feed cap.
 */
const DEFAULT_WS_PER_CLIENT = 4;
const DEFAULT_MAX_WEBSOCKETS = 10_000;

const integer = (min: number, max: number) =>
  z.string().regex(/^[0-9]+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`);

const boolean = z.enum(["0", "1", "true", "false"], { error: "must be 1 or 0" })
  .transform((v) => v === "1" || v === "true");

const redisUrl = z.string().refine((value) => {
  try {
    return ["redis:", "rediss:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, "must be a redis:// or rediss:// URL");

const origins = z.string().transform((value, ctx) => {
  const out: string[] = [];
  for (const entry of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch { /* reported below */ }
    if (!origin || origin === "null" || origin !== entry.replace(/\/$/, "")) {
      ctx.addIssue({
        code: "custom",
        message: `"${entry}" is not an origin like https://example.org`,
      });
      return z.NEVER;
    }
    out.push(origin);
  }
  return out;
});

const cidrs = z.string().transform((value, ctx) => {
  const out: Cidr[] = [];
  for (const entry of value.split(/[\s,]+/).filter(Boolean)) {
    const cidr = parseCidr(entry);
    if (!cidr) {
      ctx.addIssue({
        code: "custom",
        message: `"${entry.slice(0, 64)}" is not an address or CIDR range like 10.0.0.0/8`,
      });
      return z.NEVER;
    }
    out.push(cidr);
  }
  return out;
});

// Reported by entry position and kind of mistake, never by text: an entry is a secret.
const tokens = z.string().transform((value, ctx) => {
  const parsed = parseTokenList(value);
  if (parsed.ok) return parsed.grants;
  ctx.addIssue({ code: "custom", message: describeEntryErrors(parsed.errors, "entry") });
  return z.NEVER;
});

const jwtSecret = z.string().refine(
  (value) => new TextEncoder().encode(value).byteLength >= MIN_JWT_SECRET_BYTES,
  `must be at least ${MIN_JWT_SECRET_BYTES} bytes (openssl rand -base64 32 makes one)`,
).transform((value) => new TextEncoder().encode(value));

const jwksUrl = z.string().transform((value, ctx) => {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch { /* reported below */ }
  ctx.addIssue({ code: "custom", message: "must be an http:// or https:// URL" });
  return z.NEVER;
});

const variables = {
  PORT: integer(0, 65535).default(8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  SCORELINE_TOKENS: tokens.optional(),
  SCORELINE_TOKENS_FILE: z.string().optional(),
  SCORELINE_JWT_SECRET: jwtSecret.optional(),
  SCORELINE_JWKS_URL: jwksUrl.optional(),
  SCORELINE_JWT_AUDIENCE: z.string().max(256, "must be at most 256 characters").optional(),
  SCORELINE_DATA: z.string().min(1).default("./data/scoreline.db"),
  SCORELINE_REDIS_URL: redisUrl.optional(),
  SCORELINE_HEARTBEAT: integer(1, 3600).default(15),
  SCORELINE_WRITE_ORIGINS: origins.default([]),
  SCORELINE_WRITE_RATE: integer(0, 1_000_000).default(50),
  SCORELINE_FEEDS_PER_CLIENT: integer(1, 1_000_000).default(DEFAULT_FEEDS_PER_CLIENT),
  SCORELINE_MAX_FEEDS: integer(1, 1_000_000).default(15_000),
  SCORELINE_FEED_RATE: integer(0, 1_000_000).default(50),
  SCORELINE_WS_PER_CLIENT: integer(1, 1_000_000).default(DEFAULT_WS_PER_CLIENT),
  SCORELINE_MAX_WEBSOCKETS: integer(0, 1_000_000).default(DEFAULT_MAX_WEBSOCKETS),
  SCORELINE_TRUST_PROXY: boolean.default(false),
  SCORELINE_TRUSTED_PROXIES: cidrs.default([]),
  SCORELINE_IPV6_PREFIX: integer(1, 128).default(DEFAULT_IPV6_PREFIX),
  SCORELINE_WS_IDLE_TIMEOUT: integer(1, 3600).default(30),
  SCORELINE_LOG: z.enum(["debug", "info", "warn", "error"], {
    error: "must be debug, info, warn or error",
  }).default("info"),
};

/** A fresh random token: 32 bytes, base64url. */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * Validates an environment. Empty values count as unset, as container tooling often passes them.
 * Throws ConfigError listing every bad variable.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  makeToken: () => string = generateToken,
): Config {
  const input: Record<string, string> = {};
  for (const name of Object.keys(variables)) {
    const value = env[name];
    if (value !== undefined && value !== "") input[name] = value;
  }
  const result = z.object(variables).safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const shown = input[name] === undefined || SECRET_VARIABLES.has(name)
        ? ""
        : ` (got ${JSON.stringify(input[name])})`;
      return `${name}: ${issue.message}${shown}`;
    });
    throw new ConfigError(lines);
  }
  const v = result.data;
  let grants = v.SCORELINE_TOKENS ?? [];
  const jwt = v.SCORELINE_JWT_SECRET || v.SCORELINE_JWKS_URL
    ? {
      secret: v.SCORELINE_JWT_SECRET ?? null,
      jwksUrl: v.SCORELINE_JWKS_URL ?? null,
      audience: v.SCORELINE_JWT_AUDIENCE ?? null,
    }
    : null;
  if (jwt === null && v.SCORELINE_JWT_AUDIENCE !== undefined) {
    throw new ConfigError([
      "SCORELINE_JWT_AUDIENCE: has no effect without SCORELINE_JWT_SECRET or SCORELINE_JWKS_URL",
    ]);
  }
  const tokensFile = v.SCORELINE_TOKENS_FILE ?? null;
  let generatedToken: string | null = null;
  if (grants.length === 0 && tokensFile === null && jwt === null) {
    generatedToken = makeToken();
    grants = [{ token: generatedToken, writes: ALL_GAMES }];
  }
  return {
    port: v.PORT,
    host: v.HOST,
    tokens: grants,
    tokensFile,
    jwt,
    generatedToken,
    dataPath: v.SCORELINE_DATA,
    redisUrl: v.SCORELINE_REDIS_URL ?? null,
    heartbeatSeconds: v.SCORELINE_HEARTBEAT,
    writeOrigins: v.SCORELINE_WRITE_ORIGINS,
    writeRate: v.SCORELINE_WRITE_RATE,
    feedsPerClient: v.SCORELINE_FEEDS_PER_CLIENT,
    maxFeeds: v.SCORELINE_MAX_FEEDS,
    feedRate: v.SCORELINE_FEED_RATE,
    wsPerClient: v.SCORELINE_WS_PER_CLIENT,
    maxWebSockets: v.SCORELINE_MAX_WEBSOCKETS,
    trustProxy: v.SCORELINE_TRUST_PROXY,
    trustedProxies: v.SCORELINE_TRUSTED_PROXIES,
    ipv6Prefix: v.SCORELINE_IPV6_PREFIX,
    wsIdleTimeoutSeconds: v.SCORELINE_WS_IDLE_TIMEOUT,
    logLevel: v.SCORELINE_LOG,
  };
}

/** Every variable the service reads: what `--allow-env=` must list (see the Dockerfile). */
export const ENV_NAMES: readonly string[] = Object.keys(variables);

/**
 * The process environment, validated. Reads only the variables it knows, so the process runs
 * with `--allow-env` restricted to them.
 */
export function readConfig(): Config {
  return parseConfig(Object.fromEntries(ENV_NAMES.map((name) => [name, Deno.env.get(name)])));
}
