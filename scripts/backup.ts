/**
 * `deno task backup FILE`: a consistent copy of the live SQLite store (SCORELINE_DATA, as the
 * service reads it) in FILE, taken while the service runs and takes writes. Starting the service
 * on a copy of FILE restores it (README, "Backup, export and import"). A relative FILE is taken
 * from the directory the task was started in, not the project's.
 */
import { ConfigError, readConfig } from "../config.ts";
import { systemClock } from "../core/clock.ts";
import { backupSqlite } from "../store/sqlite_backup.ts";

function fail(message: string): never {
  console.error(`backup: ${message}`);
  Deno.exit(1);
}

async function main(): Promise<void> {
  const [file, ...rest] = Deno.args;
  if (!file || rest.length > 0 || file.startsWith("-")) fail("usage: deno task backup FILE");
  let config;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.lines.join("; "));
    throw error;
  }
  if (config.redisUrl !== null) {
    fail(
      "the store is Redis (SCORELINE_REDIS_URL): back it up with Redis's own persistence " +
        "(its append-only file, or BGSAVE), or take GET /api/export",
    );
  }
  if (config.dataPath === ":memory:") fail("SCORELINE_DATA is :memory:, which keeps nothing");
  // deno task runs in the project's directory; the user meant FILE where they typed it.
  const from = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  const target = file.startsWith("/") ? file : `${from}/${file}`;
  try {
    const result = await backupSqlite(config.dataPath, target, systemClock());
    console.log(
      `backup: ${config.dataPath} copied to ${result.target}: ${result.games} games, ` +
        `version ${result.version}, ${result.bytes} bytes, ${result.milliseconds} ms`,
    );
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

await main();
