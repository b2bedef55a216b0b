/**
 * The coordinator's handle on the load processes: starts them (they inherit the benchmark's
 * core), splits the viewers between them, sends each command to all and gathers the replies.
 */
import type { FinishReply } from "./records.ts";
import type { AwaitReply, Command, OpenReply, ViewerSpec } from "./viewer_process.ts";
import { delay } from "../proc.ts";

const VIEWER_PROCESS = new URL("./viewer_process.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

type CommandBody = Command extends infer C ? C extends Command ? Omit<C, "id"> : never : never;

class LoadProcess {
  #next = 1;
  #waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly exited: Promise<Deno.CommandStatus>;

  constructor(readonly child: Deno.ChildProcess) {
    this.#writer = child.stdin.getWriter();
    this.exited = this.#readReplies().then(() => child.status);
  }

  get pid(): number {
    return this.child.pid;
  }

  async #readReplies(): Promise<void> {
    let buffer = "";
    for await (const chunk of this.child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const reply = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        const waiter = this.#waiting.get(reply.id);
        this.#waiting.delete(reply.id);
        if (reply.ok) waiter?.resolve(reply.value);
        else waiter?.reject(new Error(`load process ${this.pid}: ${reply.error}`));
      }
    }
    for (const waiter of this.#waiting.values()) {
      waiter.reject(new Error(`load process ${this.pid} exited`));
    }
  }

  send<T>(command: CommandBody): Promise<T> {
    const id = this.#next++;
    const reply = new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    const line = new TextEncoder().encode(JSON.stringify({ ...command, id }) + "\n");
    this.#writer.write(line).catch(() => {});
    return reply;
  }
}

export class LoadPool {
  private constructor(readonly processes: LoadProcess[]) {}

  /**
   * Starts `count` load processes. With BENCH_LOAD_PROFILE=DIR each writes a V8 CPU profile of
   * itself there: how the generator's own cost per delivery was checked.
   */
  static start(count: number): LoadPool {
    const profileDir = Deno.env.get("BENCH_LOAD_PROFILE");
    const processes = Array.from({ length: count }, () =>
      new LoadProcess(
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--config",
            CONFIG,
            "--allow-ffi", // epoll and recv from libc: see epoll.ts
            ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
            VIEWER_PROCESS,
          ],
          stdin: "piped",
          stdout: "piped",
          stderr: "inherit",
        }).spawn(),
      ));
    return new LoadPool(processes);
  }

  pids(): number[] {
    return this.processes.map((p) => p.pid);
  }

  /** `total` viewers, split evenly; resolves once all are synced or the deadline passed. */
  open(spec: ViewerSpec, total: number, deadlineMs: number): Promise<OpenReply[]> {
    const n = this.processes.length;
    return Promise.all(this.processes.map((p, i) => {
      const count = Math.floor(total / n) + (i < total % n ? 1 : 0);
      return p.send<OpenReply>({ op: "open", spec, count, deadlineMs });
    }));
  }

  awaitVersion(version: number, deadlineMs: number): Promise<AwaitReply[]> {
    return Promise.all(
      this.processes.map((p) => p.send<AwaitReply>({ op: "await", version, deadlineMs })),
    );
  }

  drop(): Promise<unknown[]> {
    return Promise.all(this.processes.map((p) => p.send({ op: "drop" })));
  }

  reconnect(version: number, deadlineMs: number): Promise<AwaitReply[]> {
    return Promise.all(
      this.processes.map((p) => p.send<AwaitReply>({ op: "reconnect", version, deadlineMs })),
    );
  }

  finish(published: [number, number][]): Promise<FinishReply[]> {
    return Promise.all(
      this.processes.map((p) => p.send<FinishReply>({ op: "finish", published })),
    );
  }

  /** Closes every viewer and ends the processes (killed by PID if they do not exit in 10 s). */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map(async (p) => {
      const exited = p.send({ op: "exit" }).catch(() => {});
      const done = await Promise.race([
        exited.then(() => p.exited).then(() => true),
        delay(10_000).then(() => false),
      ]);
      if (!done) {
        try {
          p.child.kill("SIGKILL");
        } catch { /* gone */ }
        await p.exited;
      }
    }));
  }
}
