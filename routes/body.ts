/**
 * Reading a JSON request body safely: the media type first (Hono's validator would quietly yield
 * `{}` for a wrong one), then at most 16 KiB however the client frames it, then strict UTF-8 and
 * JSON. Each failure is its own status, so a client knows which part of its request to fix.
 */
import { HttpProblem } from "./problem.ts";

export const MAX_BODY_BYTES = 16 * 1024;

const JSON_TYPES = ["application/json", "application/merge-patch+json"];

export interface JsonBody {
  /** The body exactly as received: an idempotent retry is compared on it. */
  text: string;
  value: unknown;
}

export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<JsonBody> {
  const contentType = request.headers.get("content-type") ?? "";
  const [mediaType = "", ...params] = contentType.split(";").map((part) =>
    part.trim().toLowerCase()
  );
  if (!JSON_TYPES.includes(mediaType)) {
    await request.body?.cancel();
    const got = contentType ? `, not ${contentType.slice(0, 100)}` : " (none was sent)";
    throw new HttpProblem("unsupported-media-type", `Content-Type must be application/json${got}`);
  }
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
  if (charset !== undefined && charset !== "utf-8") {
    await request.body?.cancel();
    throw new HttpProblem("unsupported-media-type", "Content-Type: the charset must be utf-8");
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limit) {
    await request.body?.cancel();
    throw tooLarge(limit);
  }
  const bytes = await readAtMost(request, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpProblem("malformed-json", "the request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new HttpProblem("malformed-json", "the request body is empty");
  try {
    return { text, value: JSON.parse(text) };
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : "";
    throw new HttpProblem("malformed-json", `the request body is not well-formed JSON${reason}`);
  }
}

/** Reads the body, giving up as soon as it passes `limit` bytes (chunked bodies have no length). */
async function readAtMost(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem("payload-too-large", `the request body is larger than ${limit} bytes`);
}
