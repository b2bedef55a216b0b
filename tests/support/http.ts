/** HTTP helpers for tests: every body is read, so no test leaks a response. */

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
