/** HTML helpers shared by every page the service renders: escaping and security headers. */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
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
