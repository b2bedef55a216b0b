/**
 * `deno task bench --perf`: a Linux `perf record` of the server under test during one measured
 * phase (connecting, or publishing until the last delivery), beside the V8 perf map that names
 * what V8 compiled and its builtins. bench/perf_summary.ts reads the pair.
 *
 * Why beside --profile: V8's CPU profile sees the JavaScript thread's JavaScript and calls the
 * rest "(program)"; on loopback about two thirds of a delivery is the kernel's `sendto`, and the
 * runtime's Rust, GC and compiler threads are invisible to it too. perf samples all of it.
 */
import { which } from "./proc.ts";

/** Samples per second: enough for a 2-second phase, small enough not to slow the server. */
export const PERF_FREQUENCY = 2000;

/**
 * The environment a Deno server needs so that its perf map exists (V8 writes it as it compiles).
 * The map turns V8's event log on too, by default a file per isolate in the working directory:
 * `logFile` (in the run's temporary directory) takes it instead, so a run leaves nothing in the
 * checkout. (`--logfile=/dev/null` sends it to stdout in V8 15.)
 */
export function perfMapEnv(logFile: string): Record<string, string> {
  return { DENO_V8_FLAGS: `--perf-basic-prof,--logfile=${logFile},--no-logfile-per-isolate` };
}

/** Why perf cannot run here, or null when it can. */
export function perfUnavailable(): string | null {
  if (!which("perf")) return "perf is not installed (apt-get install linux-perf)";
  try {
    const paranoid = Number(Deno.readTextFileSync("/proc/sys/kernel/perf_event_paranoid").trim());
    const root = Deno.uid() === 0;
    if (!root && paranoid > 1) {
      return `perf_event_paranoid is ${paranoid}: run as root or lower it to 1`;
    }
  } catch {
    return "no /proc/sys/kernel/perf_event_paranoid: not Linux";
  }
  return null;
}

/** Stops a recording and keeps its files; resolves once perf has written them. */
export type StopRecording = () => Promise<void>;

/**
 * Records `pid` into `<file>` until the returned function is called. V8's perf map of that
 * process (`/tmp/perf-<pid>.map`) is moved to `<file>.map` when the process is gone
 * (`keepMap`): the summary reads it there, and /tmp does not collect one per server.
 */
export async function recordPhase(pid: number, file: string): Promise<StopRecording> {
  // perf starts with its events off and turns them on when told, and says when it has: attaching
  // to a process and reading its maps takes a moment, and a phase started before would lose its
  // beginning. The two FIFOs are perf's control and acknowledgement channels.
  const fifos = await Deno.makeTempDir({ prefix: "scoreline-perf-" });
  const [control, ack] = [`${fifos}/control`, `${fifos}/ack`];
  for (const fifo of [control, ack]) {
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    if (!made.success) throw new Error(`mkfifo ${fifo} failed`);
  }
  const perf = new Deno.Command("perf", {
    args: [
      "record",
      "-q",
      "-D",
      "-1",
      "--control",
      `fifo:${control},${ack}`,
      "-F",
      String(PERF_FREQUENCY),
      "-p",
      String(pid),
      "-o",
      file,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const finished = perf.output();
  // Both ends stay open until the recording stops: perf reads its control FIFO for as long as it
  // runs. Opening a FIFO waits for the other end; if perf exits first, this process opens the
  // other ends itself, so that no open is left waiting for ever.
  const opening = Promise.all([
    Deno.open(control, { write: true }),
    Deno.open(ack, { read: true }),
  ]);
  let opened = false;
  const [told, answers] = await Promise.race([
    opening.then((files) => {
      opened = true;
      return files;
    }),
    finished.then(async ({ code, stderr }) => {
      // Once recording, perf ends when told to stop: that is stop's business, not this.
      if (opened) return await opening;
      const others = await Promise.all([
        Deno.open(control, { read: true }),
        Deno.open(ack, { write: true }),
      ]);
      for (const file of [...others, ...await opening]) file.close();
      await Deno.remove(fifos, { recursive: true });
      throw new Error(`perf record exited ${code}: ${new TextDecoder().decode(stderr).trim()}`);
    }),
  ]);
  const closeAll = async () => {
    told.close();
    answers.close();
    await Deno.remove(fifos, { recursive: true });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await told.write(new TextEncoder().encode("enable\n"));
    const read = await Promise.race([
      answers.read(new Uint8Array(16)),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 10_000))),
    ]);
    if (read === null) throw new Error("perf did not acknowledge 'enable' within 10 s");
  } catch (error) {
    try {
      perf.kill("SIGKILL");
    } catch { /* it had ended: its output says why */ }
    await finished;
    await closeAll();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return async () => {
    try {
      perf.kill("SIGINT");
    } catch { /* already gone: its status says why */ }
    const { code, stderr } = await finished;
    await closeAll();
    // 130 is perf's own answer to SIGINT.
    if (code !== 0 && code !== 130) {
      throw new Error(`perf record exited ${code}: ${new TextDecoder().decode(stderr).trim()}`);
    }
  };
}

/** Moves a stopped server's perf map next to its recordings (call once the server is gone). */
export function keepMap(pid: number, files: string[]): void {
  const map = `/tmp/perf-${pid}.map`;
  try {
    for (const file of files) Deno.copyFileSync(map, `${file}.map`);
    Deno.removeSync(map);
  } catch { /* no map: a peer that is not Deno (nginx), whose symbols perf reads itself */ }
}

/** What a recorded phase did, beside its recording: the summary's unit of work. */
export interface PhaseWork {
  count: number;
  /** "delivery", "connect": what one of `count` is. */
  unit: string;
}

/** Writes `<file>.work.json`, so that perf_summary.ts can give µs per unit of work. */
export function writeWork(file: string, work: PhaseWork): void {
  Deno.writeTextFileSync(`${file}.work.json`, JSON.stringify(work));
}

/** The work written beside a recording, or undefined. */
export function readWork(file: string): PhaseWork | undefined {
  try {
    const work = JSON.parse(Deno.readTextFileSync(`${file}.work.json`)) as PhaseWork;
    return work.count > 0 ? work : undefined;
  } catch {
    return undefined;
  }
}
