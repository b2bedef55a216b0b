/**
 * The scorer console in a real browser: tests/browser/console_scenarios.ts, run in a child
 * `deno test --allow-all` because playwright-core reads /proc when it is imported, which Deno
 * permits only with --allow-all. Its output is shown when it fails.
 */
import assert from "node:assert/strict";
import { skipWithout } from "./support/binaries.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SCENARIOS = new URL("./browser/console_scenarios.ts", import.meta.url).pathname;

Deno.test({
  name:
    "the scorer console works in a real browser on a phone (tests/browser/console_scenarios.ts)",
  ignore: skipWithout("chromium"),
  fn: async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", "--config", CONFIG, SCENARIOS],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.match(text, /ok \| 3 passed \| 0 failed/, text);
  },
});
