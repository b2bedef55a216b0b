/**
 * The README's and SECURITY.md's advice, run as written: the token commands (in a shell, as an
 * operator would paste them), the token file example, and the nginx settings the README names,
 * which must be the ones in the files the proxy tests run.
 */
import assert from "node:assert/strict";
import { skipWithout } from "./support/binaries.ts";
import { call, gameBody } from "./support/http.ts";
import { spawnMain } from "./support/process.ts";

const read = (path: string) => Deno.readTextFile(new URL(`../${path}`, import.meta.url));
const readme = await read("README.md");

/** The lines of every fenced block of this language in a Markdown text. */
function blocks(markdown: string, language: string): string[][] {
  return [...markdown.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```$", "gm"))]
    .map((match) => match[1]!.trimEnd().split("\n"));
}

/**
 * The text of a section, from its heading to the next heading of the same or a higher level
 * (lines in fenced blocks, like a `# comment`, are not headings).
 */
function section(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `a section "${heading}"`);
  const level = heading.split(" ")[0]!.length;
  let fenced = false;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("```")) fenced = !fenced;
    const depth = /^(#+) /.exec(line)?.[1]?.length;
    if (!fenced && depth !== undefined && depth <= level) {
      return lines.slice(start + 1, i).join("\n");
    }
  }
  return lines.slice(start + 1).join("\n");
}

Deno.test({
  name: "the token commands of the README and SECURITY.md, and its token file, work as written",
  ignore: skipWithout("openssl"),
  async fn() {
    const security = await read("SECURITY.md");
    const commands = [...`${readme}\n${security}`.matchAll(/openssl rand [^`)"\n]*/g)]
      .map((m) => m[0].trim());
    assert.ok(commands.length >= 3);
    assert.deepEqual(new Set(commands), new Set(["openssl rand -base64 32"]), "one command");

    const trust = section(readme, "## Trust");
    const shell = blocks(trust, "sh").flat();
    const bare = shell.find((line) => line.startsWith("openssl rand"))!;
    const exported = shell.find((line) => line.startsWith("export SCORELINE_TOKENS="))!;
    const run = async (script: string) => {
      const out = await new Deno.Command("sh", { args: ["-c", script], stdout: "piped" }).output();
      assert.equal(out.code, 0, script);
      return new TextDecoder().decode(out.stdout).trim();
    };
    assert.match(await run(bare), /^[A-Za-z0-9+/]{43}=$/, "a token, with its padding");
    const tokens = await run(`${exported}\nprintf %s "$SCORELINE_TOKENS"`);
    const [everyGame, scoped] = tokens.split(",");
    assert.match(everyGame!, /=$/);
    assert.match(scoped!, /==competition:cup-2026$/);

    const fileExample = blocks(
      section(readme, "### The token file: tokens without restarts"),
      "text",
    )[0]!;
    const dir = await Deno.makeTempDir({ prefix: "scoreline-readme-" });
    await Deno.writeTextFile(`${dir}/tokens`, `${fileExample.join("\n")}\n`);
    const child = await spawnMain({
      SCORELINE_DATA: ":memory:",
      SCORELINE_TOKENS: tokens,
      SCORELINE_TOKENS_FILE: `${dir}/tokens`,
    });
    try {
      const write = (token: string, id: string) =>
        call(child.url, `/api/games/${id}`, { method: "PUT", token, body: gameBody() });
      const created = await write(everyGame!, "final");
      assert.equal(created.status, 201, "the generated token, padding and all, writes");
      assert.equal(created.headers.get("content-type"), "application/json");
      assert.equal(created.json.id, "final");
      const byCompetition = await write(scoped!.replace(/=competition:cup-2026$/, ""), "final");
      assert.equal(byCompetition.status, 403, "the scoped token is known, and scoped");
      const volunteer = fileExample.find((line) => line.startsWith("volunteer"))!;
      assert.equal((await write(volunteer.replace(/=final$/, ""), "final")).status, 200);
      assert.equal((await write(volunteer.replace(/=final$/, ""), "semi")).status, 403);
      const [line] = fileExample.filter((l) => /^[A-Za-z0-9+/]+=$/.test(l));
      assert.equal((await write(line!, "final")).status, 200, "a base64 token from the file");
    } finally {
      child.kill("SIGTERM");
      await child.exited;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("every nginx setting the README names is in the files the proxy tests run", async () => {
  const shipped = (await Promise.all(
    ["nginx.conf", "scoreline-proxy.conf", "nginx-tls.conf"].map((f) => read(`deploy/${f}`)),
  )).join("\n").replace(/\s+/g, " ");
  const deployment = section(readme, "## Deployment");
  const from = deployment.indexOf("The parts that matter");
  const nginx = deployment.slice(from, deployment.indexOf("\n\n", from)); // that paragraph
  // Settings are the code spans of two words or more (`proxy_read_timeout 75s`).
  const settings = [...nginx.matchAll(/`([^`]*)`/g)].map((m) => m[1]!.replace(/;$/, ""))
    .filter((span) => span.includes(" "));
  assert.ok(settings.length >= 6, settings.join(" | "));
  for (const setting of settings) {
    assert.ok(shipped.includes(setting), `"${setting}" is in deploy/`);
  }
});
