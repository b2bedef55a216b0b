/**
 * The real main.ts as a child process: how the restart and shutdown tests see the service,
 * exactly as an operator runs it.
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

export interface Child {
  url: string;
  process: Deno.ChildProcess;
  /** Every log line so far. */
  lines: string[];
  /** Resolves with the exit status; the output has been read to its end. */
  exited: Promise<Deno.CommandStatus>;
  /**
   * Resolves with the first log line (already seen or still to come) that matches, counting from
   * line `from` (0: every line; `lines.length`: only lines still to come).
   */
  logged(pattern: RegExp, from?: number): Promise<string>;
  kill(signal: Deno.Signal): void;
}

export interface SpawnOptions {
  /** Runs main.ts under this command, e.g. `["prlimit", "--nofile=400", "--"]` (it must exec). */
  wrap?: string[];
}

/** Starts main.ts on a free port and resolves once it logs that it listens. */
export async function spawnMain(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<Child> {
  const [program = Deno.execPath(), ...wrapArgs] = [...(options.wrap ?? []), Deno.execPath()];
  const command = new Deno.Command(program, {
    args: [
      ...wrapArgs,
      "run",
      "--config",
      CONFIG,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys=hostname",
      MAIN,
    ],
    env: { PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  });
  const process = command.spawn();
  const lines: string[] = [];
  const watchers = new Set<
    { pattern: RegExp; from: number; resolve: (line: string) => void }
  >();
  let onListen: (url: string) => void;
  const listening = new Promise<string>((resolve) => (onListen = resolve));
  const exited = readLines(process, (line) => {
    const index = lines.push(line) - 1;
    const url = /"msg":"listening","url":"([^"]+)"/.exec(line)?.[1];
    if (url) onListen(url);
    for (const watcher of watchers) {
      if (index >= watcher.from && watcher.pattern.test(line)) {
        watchers.delete(watcher);
        watcher.resolve(line);
      }
    }
  });
  const logged = (pattern: RegExp, from = 0) => {
    const seen = lines.slice(from).find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      watchers.add({ pattern, from, resolve });
      exited.then(() => reject(new Error(`main.ts exited without logging ${pattern}`)));
    });
  };
  const url = await Promise.race([
    listening,
    exited.then((status) => {
      throw new Error(`main.ts exited with ${status.code} before listening:\n${lines.join("\n")}`);
    }),
  ]);
  return { url, process, lines, exited, logged, kill: (signal) => process.kill(signal) };
}

/** Reads a child's stdout and stderr to their end, line by line; resolves with its exit status. */
export async function readLines(
  process: Deno.ChildProcess,
  onLine: (line: string) => void,
): Promise<Deno.CommandStatus> {
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
    if (buffer) onLine(buffer);
  };
  await Promise.all([pump(process.stdout), pump(process.stderr)]);
  return process.status;
}

export function freePort(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return String(port);
}

/**
 * main.ts on `port`, or on one picked here so that a restart can come back on the same one.
 * Another process may take the port between pick and bind: then try again (a new one, if ours).
 */
export async function startMain(env: Record<string, string>, port?: string): Promise<Child> {
  for (let attempt = 1;; attempt++) {
    try {
      return await spawnMain({ ...env, PORT: port ?? freePort() });
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}
