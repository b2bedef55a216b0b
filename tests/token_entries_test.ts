import assert from "node:assert/strict";
import { ALL_GAMES, type WriteScope } from "../core/auth.ts";
import {
  describeEntryErrors,
  MAX_TOKEN_FILE_BYTES,
  parseTokenEntry,
  parseTokenFile,
  parseTokenList,
} from "../core/token_entries.ts";

const scope = (games: string[], competitions: string[] = []): WriteScope => ({
  games: new Set(games),
  competitions: new Set(competitions),
});
const encode = (text: string) => new TextEncoder().encode(text);

/** A token as `openssl rand -base64 32` prints it: 44 characters ending in one `=`. */
const BASE64 = "q5X0Jm1VhP3nYk9QeR2sT7uW4xZ6aB8cD0fG2hJ4kL8=";

Deno.test("base64 padding belongs to the token, so openssl rand -base64 32 works as it comes", () => {
  assert.deepEqual(parseTokenEntry(BASE64), { grant: { token: BASE64, writes: ALL_GAMES } });
  const padded = "Zm9vYmFyZm9vYmFyZm9v==";
  assert.deepEqual(parseTokenEntry(padded), { grant: { token: padded, writes: ALL_GAMES } });
});

Deno.test("the last = followed by a scope list separates the token from its scope", () => {
  assert.deepEqual(parseTokenEntry("Zm9vYmFyZm9vYmFy==game-a"), {
    grant: { token: "Zm9vYmFyZm9vYmFy=", writes: scope(["game-a"]) },
  });
  assert.deepEqual(parseTokenEntry(`${BASE64}=game-a|competition:cup-2026|game-b`), {
    grant: { token: BASE64, writes: scope(["game-a", "game-b"], ["cup-2026"]) },
  });
  assert.deepEqual(parseTokenEntry("volunteer-token-0001=competition:league"), {
    grant: { token: "volunteer-token-0001", writes: scope([], ["league"]) },
  });
});

Deno.test("a mistyped scope is refused, never taken as part of an unscoped token", () => {
  for (
    const entry of [
      "volunteer-token-0001=Game-A",
      "volunteer-token-0001=cup final",
      "volunteer-token-0001=game-a||game-b",
      "volunteer-token-0001=competition:",
      "volunteer-token-0001=competition:Cup",
      "volunteer-token-0001=team:lions",
      "volunteer-token-0001=game-a|",
    ]
  ) {
    const parsed = parseTokenEntry(entry);
    assert.ok("kind" in parsed, entry);
    assert.match(parsed.kind, /scope list/);
  }
});

Deno.test("a bad entry is reported by position and kind, never by its text", () => {
  const secrets = [
    "TOKEN=second-half", // the token part is too short: the old message printed "second-half"
    "sh0rt!x",
    "qwe rty uiop asdfgh zxcvb",
    "tokentokentoken-é-tokentoken",
    "very-long-secret-token=Nqx A Wvyz",
  ];
  const result = parseTokenList(["all-games-token-0000", ...secrets].join(","));
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  const line = describeEntryErrors(result.errors, "entry");
  assert.deepEqual(result.errors.map((e) => e.position), [2, 3, 4, 5, 6]);
  assert.match(line, /^entry 2: the token is shorter than 16 characters; entry 3: /);
  for (const secret of [...secrets, "all-games-token-0000"]) {
    for (const part of secret.split(/[=, ]/)) {
      if (part.length >= 4) assert.ok(!line.includes(part), `"${part}" is not in: ${line}`);
    }
  }
});

Deno.test("a token listed twice is refused: its scope would be ambiguous", () => {
  const result = parseTokenList("all-games-token-0000,all-games-token-0000=game-a");
  assert.deepEqual(result, {
    ok: false,
    errors: [{ position: 2, kind: "the same token as entry 1" }],
  });
});

Deno.test("a token file holds one entry a line, with comments and blank lines, CRLF or LF", () => {
  const text = [
    "\uFEFF# Scorers of the 2026 cup",
    "",
    `   ${BASE64}   `,
    "# a volunteer at the final",
    "volunteer-token-0001=final\r",
    "token-with-#-inside-1=competition:cup",
    "",
  ].join("\n");
  assert.deepEqual(parseTokenFile(encode(text), new Set()), {
    ok: true,
    grants: [
      { token: BASE64, writes: ALL_GAMES },
      { token: "volunteer-token-0001", writes: scope(["final"]) },
      { token: "token-with-#-inside-1", writes: scope([], ["cup"]) },
    ],
  });
  assert.deepEqual(parseTokenFile(encode(""), new Set()), { ok: true, grants: [] });
});

Deno.test("a token file with garbage is refused with the line number and the kind of mistake", () => {
  const cases: [Uint8Array, number, RegExp][] = [
    [encode("good-token-000000001\nshort\n"), 2, /shorter than 16/],
    [encode("# c\n\ngood-token-000000001=Bad Scope\n"), 3, /scope list/],
    [encode("good-token-000000001\ngood-token-000000001\n"), 2, /same token as line 1/],
    [encode("first-token-00000001\nnul\u0000in-the-token-0001\n"), 2, /printable ASCII/],
    [encode("a,b-comma-token-00001"), 1, /printable ASCII/],
    [new Uint8Array([0x23, 0x0a, 0x23, 0x0a, 0xff, 0xfe, 0x0a]), 3, /not UTF-8/],
    [new Uint8Array(MAX_TOKEN_FILE_BYTES + 1).fill(0x61), 0, /larger than 1 MiB/],
    [new Uint8Array([0x73, 0x0a, 0xc3, 0x28, 0x0a]), 1, /shorter than 16/], // in line order
    [encode("reserved-token-00001\n"), 1, /one in SCORELINE_TOKENS/],
  ];
  for (const [bytes, line, kind] of cases) {
    const result = parseTokenFile(bytes, new Set(["reserved-token-00001"]));
    assert.ok(!result.ok, `line ${line}: ${kind}`);
    assert.equal(result.errors[0]!.position, line, String(kind));
    assert.match(result.errors[0]!.kind, kind);
  }
});
