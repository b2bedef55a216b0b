/**
 * The Dockerfile, read as text: what `deno task container:check` verifies on a built image (and
 * more) cannot be built in every test run, but these promises can drift with the code, so they
 * are checked on every run. The full build-and-run check is scripts/container_check.ts.
 */
import assert from "node:assert/strict";
import { ENV_NAMES } from "../config.ts";

const dockerfile = await Deno.readTextFile(new URL("../Dockerfile", import.meta.url));
const dockerignore = await Deno.readTextFile(new URL("../.dockerignore", import.meta.url));

/** The exec-form CMD, parsed. */
function command(): string[] {
  const match = /^CMD (\[[\s\S]*?\])\s*$/m.exec(dockerfile.replace(/\\\n\s*/g, ""));
  assert.ok(match, "an exec-form CMD");
  return JSON.parse(match[1]!);
}

Deno.test("the Dockerfile pins denoland/deno:2.9.6 by digest and lets BASE override it", () => {
  assert.match(
    dockerfile,
    /^ARG BASE=denoland\/deno:2\.9\.6@sha256:[0-9a-f]{64}$/m,
  );
  assert.match(dockerfile, /^FROM \$\{BASE\}$/m);
});

Deno.test("the container's --allow-env lists exactly the variables the service reads", () => {
  const allowEnv = command().find((a) => a.startsWith("--allow-env="));
  assert.ok(allowEnv);
  assert.deepEqual(allowEnv.slice("--allow-env=".length).split(",").sort(), [...ENV_NAMES].sort());
});

Deno.test("the container runs without -A, as deno, from the frozen lockfile, with a volume and a healthcheck", () => {
  const cmd = command();
  assert.equal(cmd[0], "run");
  assert.equal(cmd.at(-1), "main.ts");
  assert.ok(!cmd.includes("-A") && !cmd.includes("--allow-all"));
  assert.ok(cmd.includes("--cached-only") && cmd.includes("--frozen"), "never fetches at run time");
  assert.ok(cmd.includes("--allow-write=/data"));
  assert.ok(cmd.includes("--allow-read=/app,/data,/run/secrets"), "secrets mount: a token file");
  assert.match(
    dockerfile,
    /^COPY deno\.json deno\.lock \.\/\nUSER deno\nRUN deno install --frozen$/m,
  );
  assert.match(dockerfile, /^USER deno$/m);
  const lastUser = [...dockerfile.matchAll(/^USER (\S+)$/gm)].at(-1)?.[1];
  assert.equal(lastUser, "deno", "the image ends as the unprivileged user");
  assert.match(dockerfile, /^VOLUME \["\/data"\]$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n?.*scripts\/healthcheck\.ts/m);
  assert.match(dockerfile, /^STOPSIGNAL SIGTERM$/m);
  for (const path of ["data", "tests", ".git"]) {
    assert.match(dockerignore, new RegExp(`^${path.replace(".", "\\.")}$`, "m"), `${path} ignored`);
  }
});
