/**
 * A redis-server of the test's own, on a free port in a temp dir, configured as production must
 * be (append-only file, fsync before every answer), so that killing it with SIGKILL and starting
 * it again on the same dir is a real crash and recovery.
 */
import { findBinary } from "./binaries.ts";
import { readLines } from "./process.ts";

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** SIGKILL, as a crash: nothing is flushed that was not already synced. */
  kill(): Promise<void>;
  /** Starts again on the same port and dir (after kill or stop). */
  restart(): Promise<void>;
  /** Stops it (if running) and removes its dir. */
  [Symbol.asyncDispose](): Promise<void>;
}

const ATTEMPTS = 5;

export async function startRedis(): Promise<RedisServer> {
  const binary = findBinary("redis-server");
  if (!binary) throw new Error("redis-server is not installed (apt-get install redis-server)");
  const dir = await Deno.makeTempDir({ prefix: "scoreline-redis-" });
  let running: Running | undefined;
  let port = 0;
  for (let attempt = 1; !running; attempt++) {
    port = freePort();
    try {
      running = await spawn(binary, port, dir);
    } catch (error) {
      // Another process took the port between our probe and redis-server's bind: pick again.
      if (attempt >= ATTEMPTS) {
        await Deno.remove(dir, { recursive: true });
        throw error;
      }
    }
  }
  const stop = async (signal: Deno.Signal) => {
    const current = running;
    running = undefined;
    if (!current) return;
    try {
      current.process.kill(signal);
    } catch {
      // Already gone.
    }
    await current.exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill: () => stop("SIGKILL"),
    async restart() {
      await stop("SIGKILL");
      running = await spawn(binary, port, dir);
    },
    async [Symbol.asyncDispose]() {
      await stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

interface Running {
  process: Deno.ChildProcess;
  exited: Promise<unknown>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts redis-server and resolves once it accepts connections; rejects if it exits first. */
async function spawn(binary: string, port: number, dir: string): Promise<Running> {
  const process = new Deno.Command(binary, {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
      "--daemonize",
      "no",
      "--logfile",
      "",
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const exited = readLines(process, (line) => {
    if (lines.length < 200) lines.push(line);
    if (line.includes("Ready to accept connections")) onReady();
  });
  await Promise.race([
    ready,
    exited.then((status) => {
      throw new Error(`redis-server exited with ${status.code}:\n${lines.join("\n")}`);
    }),
  ]);
  return { process, exited };
}
