/**
 * The container's HEALTHCHECK: exits 0 when /healthz answers 200 on this container's port,
 * 1 otherwise (including no answer within 3 s). Deno is in the image; curl is not.
 */
const port = Deno.env.get("PORT") || "8080";
try {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(3000),
  });
  await response.body?.cancel();
  Deno.exit(response.status === 200 ? 0 : 1);
} catch {
  Deno.exit(1);
}
