/**
 * Tokens without restarts, with the real main.ts: `SCORELINE_TOKENS_FILE` is read beside
 * `SCORELINE_TOKENS`, re-read when it changes (replaced by a rename, as editors and Kubernetes
 * do, or rewritten in place) and on SIGHUP; a viewer stays connected through every reload; a bad
 * file keeps the tokens in force with one error line that names the line and the kind of mistake
 * and never the secret. And the token command the README and SECURITY.md give works as written.
 */
import assert from "node:assert/strict";
import { openSse } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { type Child, spawnMain } from "./support/process.ts";

const ENV_TOKEN = "environment-token-0001";
const FIRST = "first-file-token-00001";
const SECOND = "Zm9yIHRoZSBzZWNvbmQgaGFsZg=="; // base64, its padding part of the token
const THIRD = "third-file-token-00003";

function put(url: string, token: string, home = 0) {
  return call(url, "/api/games/cup", { method: "PUT", token, body: gameBody(home, 0) });
}

/** Replaces the file the way an editor or a secret store does: write aside, then rename. */
async function replace(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.next`, text);
  await Deno.rename(`${path}.next`, path);
}

/** The next log line matching `pattern`, from now on. */
function next(child: Child, pattern: RegExp): Promise<Record<string, unknown>> {
  return child.logged(pattern, child.lines.length).then((line) => JSON.parse(line));
}

Deno.test("the token file is re-read on change and on SIGHUP while a viewer stays connected, and a bad file keeps the tokens in force", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-tokens-" });
  const path = `${dir}/tokens`;
  await Deno.writeTextFile(path, `# scorers\n${FIRST}\n`);
  const child = await spawnMain({
    SCORELINE_DATA: ":memory:",
    SCORELINE_TOKENS: ENV_TOKEN,
    SCORELINE_TOKENS_FILE: path,
  });
  const sse = await openSse(`${child.url}/api/games/cup/events`);
  try {
    assert.equal((await put(child.url, FIRST, 1)).status, 201);
    assert.equal((await put(child.url, ENV_TOKEN, 2)).status, 200, "the two sources together");

    // Replaced by a rename: the first token is revoked, the second works, the feed goes on.
    let reloaded = next(child, /"msg":"tokens reloaded"/);
    await replace(path, `${SECOND}=cup|competition:cup-2026\n`);
    assert.deepEqual(
      { ...(await reloaded), time: undefined },
      {
        time: undefined,
        level: "info",
        msg: "tokens reloaded",
        file: path,
        reason: "change",
        tokens: 2,
        fromFile: 1,
      },
    );
    const revoked = await put(child.url, FIRST, 3);
    assert.equal(revoked.status, 401);
    assert.equal(revoked.headers.get("content-type"), "application/problem+json");
    assert.equal((await put(child.url, SECOND, 4)).status, 200, "scoped to cup");
    const elsewhere = await call(child.url, "/api/games/other", {
      method: "PUT",
      token: SECOND,
      body: gameBody(),
    });
    assert.equal(elsewhere.status, 403);
    assert.equal((await put(child.url, ENV_TOKEN, 5)).status, 200);

    // A bad file: one error line with the line and the kind, never the text; nothing changes.
    const refused = next(child, /SCORELINE_TOKENS_FILE is not valid/);
    const badLine = "sh0rt=second-half";
    await Deno.writeTextFile(path, `${THIRD}\n${badLine}\n`);
    const error = await refused;
    assert.equal(error.level, "error");
    assert.equal(error.line, 2);
    assert.equal(error.problem, "line 2: the token is shorter than 16 characters");
    const log = child.lines.join("\n");
    for (const secret of ["sh0rt", "second-half", THIRD, SECOND, FIRST, ENV_TOKEN]) {
      assert.ok(!log.includes(secret), `the log never holds ${secret}`);
    }
    assert.equal((await put(child.url, SECOND, 6)).status, 200, "the tokens in force are kept");
    assert.equal((await put(child.url, THIRD, 7)).status, 401, "and none of the bad file's");

    // Rewritten in place: applied on the change; and SIGHUP reads it again.
    reloaded = next(child, /"msg":"tokens reloaded"/);
    await Deno.writeTextFile(path, `${THIRD}\n`);
    assert.equal((await reloaded).reason, "change");
    reloaded = next(child, /"msg":"tokens reloaded"/);
    child.kill("SIGHUP");
    assert.equal((await reloaded).reason, "SIGHUP");
    assert.equal((await put(child.url, THIRD, 8)).status, 200);
    assert.equal((await put(child.url, SECOND, 9)).status, 401);

    // The viewer saw every change, on the one connection it opened before the first reload.
    const seen = await sse.inbox.until((e) =>
      e.event === "update" && JSON.parse(e.data).game.home.score === 8
    );
    const scores = seen.filter((e) => e.event === "update").map((e) =>
      JSON.parse(e.data).game.home.score
    );
    assert.deepEqual(scores, [1, 2, 4, 5, 6, 8]);
    assert.equal(sse.inbox.ended, false);
  } finally {
    await sse.close();
    child.kill("SIGTERM");
    await child.exited;
    await Deno.remove(dir, { recursive: true });
  }
});

/** main.ts with this token file, expected to stop before it listens. */
async function startOnly(tokensFile: string): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
    ],
    env: { SCORELINE_DATA: ":memory:", SCORELINE_TOKENS_FILE: tokensFile, PORT: "0" },
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr).trim() };
}

Deno.test("a bad token file stops start-up with one line naming the line and the kind, never the text", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-tokens-" });
  try {
    const path = `${dir}/tokens`;
    await Deno.writeTextFile(path, `${FIRST}\nvolunteer-token-0001=Cup Final\n`);
    const output = await startOnly(path);
    assert.equal(output.code, 1);
    const stderr = output.stderr;
    assert.equal(
      stderr,
      "SCORELINE_TOKENS_FILE: line 2: the text after its last '=' is not a scope list " +
        "(game ids or competition:ID, separated by |)",
    );
    assert.ok(!stderr.includes("volunteer") && !stderr.includes(FIRST));
    const missing = await startOnly(`${dir}/none`);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "SCORELINE_TOKENS_FILE: cannot be read (NotFound)");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
