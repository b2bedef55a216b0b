/**
 * The parts of an import that are not HTTP: how a game is re-stamped (core/import.ts), and how an
 * NDJSON body is cut into lines however it is chunked (http/ndjson_body.ts).
 */
import assert from "node:assert/strict";
import { fillTemplate, importedGame, importTemplate, versionTemplate } from "../core/import.ts";
import type { Game } from "../core/schema.ts";
import { ndjsonLines } from "../http/ndjson_body.ts";
import { ManualClock } from "./support/clock.ts";

Deno.test("an imported game takes the new version, its events too, and updatedAt the commit time", () => {
  const line = importedGame({
    id: "cup",
    title: 'says "version":7 and \\u0000',
    home: { name: "  Lions " },
    away: { name: "Tigers", score: 2 },
    version: 7,
    updatedAt: "2020-01-01T00:00:00.000Z",
  }, 0);
  assert.ok(line.ok);
  const now = Date.UTC(2026, 11, 7, 18, 0, 0);
  const game = fillTemplate(importTemplate(line.game, now), 42);
  assert.deepEqual(game, {
    id: "cup",
    title: 'says "version":7 and \\u0000',
    status: "scheduled",
    home: { name: "Lions", score: 0 },
    away: { name: "Tigers", score: 2 },
    version: 42,
    updatedAt: new Date(now).toISOString(),
  });
  // A timeline (another part of the game) is re-stamped the same way, event by event.
  const withEvents = {
    ...game,
    events: [{ id: 1, kind: "goal", version: 3, text: "\u0000 version" }, { id: 2, version: 5 }],
  };
  const again = fillTemplate(
    versionTemplate(withEvents as Game),
    99,
  ) as unknown as typeof withEvents;
  assert.equal(again.version, 99);
  assert.deepEqual(again.events, [
    { id: 1, kind: "goal", version: 99, text: "\u0000 version" },
    { id: 2, version: 99 },
  ]);
});

Deno.test("an import line must be a game with an id, by the rules of PUT", () => {
  assert.equal(importedGame({ home: { name: "A" }, away: { name: "B" } }, 0).ok, false);
  const bad = importedGame({ id: "x", home: { name: "A", score: -1 }, away: { name: "B" } }, 0);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors.map((e) => e.path), ["home.score"]);
  assert.equal(importedGame([], 0).ok, false);
});

/** The lines of a body sent in exactly these chunks. */
async function linesOf(chunks: string[], lineBytes = 8) {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const request = new Request("http://localhost/api/import", { method: "POST", body });
  const out: [number, string | null][] = [];
  const limits = { bodyBytes: 1000, lineBytes, timeoutMs: 1000 };
  for await (const { number, bytes } of ndjsonLines(request, new ManualClock(), limits)) {
    out.push([number, bytes === null ? null : new TextDecoder().decode(bytes)]);
  }
  return out;
}

Deno.test("NDJSON lines are numbered from 1 however the body is chunked, CRLF and all", async () => {
  const expected = [[1, "ab"], [2, ""], [3, "cd"], [4, "e"]];
  assert.deepEqual(await linesOf(["ab\n\ncd\ne"]), expected);
  assert.deepEqual(await linesOf(["a", "b\r", "\n", "\r\nc", "d\n", "e"]), expected);
  assert.deepEqual(
    await linesOf(["ab\n\ncd\ne\n"]),
    expected,
    "a final newline ends the last line",
  );
});

Deno.test("an NDJSON line over its limit is given as null and skipped to its end, whatever the chunks", async () => {
  assert.deepEqual(await linesOf(["12345678\n123456789\nok"]), [
    [1, "12345678"],
    [2, null],
    [3, "ok"],
  ]);
  assert.deepEqual(await linesOf(["1234", "5678\r\n", "1234", "56789", "0123\n", "ok\n"]), [
    [1, "12345678"],
    [2, null],
    [3, "ok"],
  ]);
  assert.deepEqual(await linesOf(["123456789\r\n"]), [[1, null]], "the \\r is not counted");
  assert.deepEqual(await linesOf(["123456789"]), [[1, null]]);
});
