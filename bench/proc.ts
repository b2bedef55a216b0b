/**
 * What the benchmark reads about processes from /proc (Linux): resident memory, CPU time and
 * children, plus core pinning with `taskset` and free ports on 127.0.0.1.
 */

/** Resident set size in KiB, from /proc/<pid>/status (VmRSS). */
export function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** User + system CPU time of a process so far, in seconds (its threads included). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may hold spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0; // gone: counted up to its last read
  }
}

/** The kernel's USER_HZ; 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** Direct children of a process (nginx's master → its worker). */
export function childPids(pid: number): number[] {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
    return text ? text.split(" ").map(Number) : [];
  } catch {
    return [];
  }
}

/** CPU use of a set of processes over a window, as a share of one core. */
export class CpuMeter {
  #start: number;
  #startedAt = performance.now();

  constructor(readonly pids: () => number[]) {
    this.#start = this.#total();
  }

  #total(): number {
    return this.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  /** Percent of one core since the meter was made. */
  read(): number {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    return seconds > 0 ? Math.round((this.#total() - this.#start) / seconds * 100) : 0;
  }

  /** CPU seconds used since the meter was made (10 ms resolution: /proc counts clock ticks). */
  seconds(): number {
    return Math.round((this.#total() - this.#start) * 100) / 100;
  }
}

/** Whether `taskset` can be used; without it nothing is pinned and the report says so. */
export function havePinning(): boolean {
  return which("taskset") !== null;
}

/** Pins every thread of a running process (the benchmark itself) to one core. */
export async function pin(pid: number, cpu: number): Promise<void> {
  const { success, stderr } = await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", String(cpu), String(pid)],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`taskset failed: ${new TextDecoder().decode(stderr)}`);
}

/** The argv prefix that starts a command pinned to `cpu` (empty when pinning is off). */
export function pinned(cpu: number | null): string[] {
  return cpu === null ? [] : ["taskset", "-c", String(cpu)];
}

/** A free TCP port on 127.0.0.1 (another process may still take it: callers retry). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The absolute path of a program on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const path = `${dir}/${name}`;
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0) & 0o111)) return path;
    } catch { /* not here */ }
  }
  return null;
}

/** Absolute wall-clock time in ms with sub-ms resolution, comparable across processes. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
