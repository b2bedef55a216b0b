/** HTTP helpers for tests: every body is read, so no test leaks a response. */
import assert from "node:assert/strict";

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  /** Sent as is, instead of JSON.stringify(body). */
  raw?: BodyInit;
  headers?: Record<string, string>;
}

export async function call(base: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("authorization", `Bearer ${options.token}`);
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const response = await fetch(base + path, { method: options.method ?? "GET", headers, body });
  const text = await response.text();
  let json: unknown = undefined;
  if (text && /json/.test(response.headers.get("content-type") ?? "")) json = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, json };
}

/** A valid game body. */
export function gameBody(home = 0, away = 0, extra: Record<string, unknown> = {}) {
  return {
    title: "Cup Final",
    status: "live",
    home: { name: "Lions", score: home },
    away: { name: "Tigers", score: away },
    ...extra,
  };
}

/** A problem+json answer with this status and type, and the fields every problem has. */
export function assertProblem(answer: Answer, status: number, type: string) {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers.get("content-type"), "application/problem+json");
  assert.equal(answer.json.status, status);
  assert.equal(answer.json.type, `/problems/${type}`);
  assert.equal(typeof answer.json.title, "string");
  assert.equal(typeof answer.json.detail, "string");
}

/** The writes a scorer makes, with `token`, each answer read in full. */
export function gameWrites(url: string, token: string) {
  return {
    put: (id: string, home = 0) =>
      call(url, `/api/games/${id}`, { method: "PUT", token, body: gameBody(home) }),
    score: (id: string, side: "home" | "away" = "home", points = 1) =>
      call(url, `/api/games/${id}/score`, { method: "POST", token, body: { side, points } }),
    patch: (id: string, body: unknown) =>
      call(url, `/api/games/${id}`, { method: "PATCH", token, body }),
    remove: (id: string) => call(url, `/api/games/${id}`, { method: "DELETE", token }),
  };
}

/** The version a successful write's ETag names (a DELETE's included). */
export function writtenVersion(answer: { status: number; headers: Headers }): number {
  if (![200, 201, 204].includes(answer.status)) throw new Error(`write answered ${answer.status}`);
  return Number(answer.headers.get("etag")!.replaceAll('"', ""));
}

/** The largest game the contract allows, in bytes on the wire: every field full of emoji. */
export function largestGame(score: number) {
  return {
    title: "🏆".repeat(120),
    status: "live",
    period: "⏱".repeat(32),
    clock: "⏰".repeat(16),
    home: { name: "🦁".repeat(64), score, detail: "🟥".repeat(32) },
    away: { name: "🐯".repeat(64), score: 0, detail: "🟨".repeat(32) },
  };
}
