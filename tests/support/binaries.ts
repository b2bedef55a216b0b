/**
 * Tests that need a program from Debian (redis-server, chromium, nginx). Outside CI a missing
 * program skips the test and says so loudly; in CI (`CI` set, as .ci/run does) the test runs and
 * fails, because CI must never pass by skipping.
 */

/** The program's path on PATH (or in /usr/sbin, where Debian puts nginx), or null. */
export function findBinary(name: string): string | null {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"]) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

/**
 * Whether tests needing `name` should be ignored here: true (with a loud warning) only when the
 * program is missing and this is not CI.
 */
export function skipWithout(name: string, install = `apt-get install ${name}`): boolean {
  if (findBinary(name) !== null) return false;
  if (Deno.env.get("CI")) return false;
  console.warn(
    `\n!!! SKIPPING tests that need ${name}: it is not installed (${install}). CI runs them.\n`,
  );
  return true;
}
