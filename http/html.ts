/**
 * HTML helpers shared by every page the service renders: a template tag that escapes by default,
 * and security headers. Pages are written with `markup\`...\`` (not named `html`: deno fmt would reformat the markup), never by concatenating strings, so a
 * forgotten escape cannot become an XSS: text is escaped unless it is already `SafeHtml`.
 */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

/** Markup that is safe to insert as it is: made by `markup`, or by `trusted` from the code's own text. */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/** What a template may interpolate. Booleans, null and undefined write nothing (`${a && b}`). */
export type HtmlValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | SafeHtml
  | readonly HtmlValue[];

/**
 * The template tag of every page: each interpolated string is escaped, numbers are written as they
 * are, SafeHtml (another `markup` result) is inserted as it is, arrays are joined without a
 * separator, and null, undefined and booleans write nothing.
 */
export function markup(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.text;
  if (typeof value === "string") return escapeHtml(value);
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return value.map(render).join("");
  return "";
}

/**
 * Markup the code itself wrote (a constant, never data from a request or the store), to be
 * inserted as it is.
 */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** What a page may do; everything else its Content-Security-Policy forbids. */
export interface PagePolicy {
  /** `none` (kiosk pages: no JavaScript at all) or `self` (pages that load /widget.js etc.). */
  scripts: "none" | "self";
  /** Extra origins the page may connect to (fetch, EventSource, WebSocket); `'self'` always. */
  connect?: string[];
  /** Who may frame the page: `'none'` (default), `'self'`, or `*` for embeds. */
  frameAncestors?: string;
}

/**
 * The security headers of an HTML response: a CSP that allows only what the page needs, no MIME
 * sniffing, and no referrer leaking the page's URL (and its query) to other sites.
 */
export function pageHeaders(policy: PagePolicy): Record<string, string> {
  const frameAncestors = policy.frameAncestors ?? "'none'";
  const csp = [
    "default-src 'none'",
    `script-src ${policy.scripts === "none" ? "'none'" : "'self'"}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...(policy.connect ?? [])].join(" ")}`,
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
  const headers: Record<string, string> = {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  // For browsers too old for frame-ancestors.
  if (frameAncestors === "'none'") headers["x-frame-options"] = "DENY";
  else if (frameAncestors === "'self'") headers["x-frame-options"] = "SAMEORIGIN";
  return headers;
}

/** An HTML response with the security headers of its policy. */
export function htmlResponse(
  html: string,
  options: { status?: number; policy: PagePolicy; headers?: Record<string, string> },
): Response {
  return new Response(html, {
    status: options.status ?? 200,
    headers: { ...pageHeaders(options.policy), ...options.headers },
  });
}
