/**
 * `deno task container:check`: builds the Dockerfile with buildah and checks the image the way an
 * orchestrator would run it, with an OCI runtime (runc, or crun) and no Docker daemon:
 *
 *   1. the image config: non-root user, HEALTHCHECK, VOLUME /data, explicit permissions (no -A);
 *   2. the container, on a read-only root file system with /data bind-mounted from a temp dir:
 *      /healthz, one write, one SSE read that sees the write and a live goal, /metrics;
 *   3. the HEALTHCHECK command, run inside the container;
 *   4. SIGTERM: a clean exit (status 0, "stopped" logged) well within Docker's 10 s;
 *   5. a second container on the same /data still has the game (the volume holds the state).
 *
 * Environment: BASE (the base image; default the Dockerfile's pinned denoland/deno:2.9.6, and
 * when that cannot be pulled, localhost/deno-local:2.9.6 from scripts/local_base_image.sh if it
 * exists), BUILDAH_OPTS (extra global buildah flags, e.g. "--storage-driver vfs"), KEEP_IMAGE=1.
 * Exits 0 when every check passed, 1 when one failed, 2 when it cannot run here (no buildah,
 * no runtime, no base image), saying what is missing.
 */
import { findBinary } from "../tests/support/binaries.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const IMAGE = "localhost/scoreline:check";
const LOCAL_BASE = "localhost/deno-local:2.9.6";
const TOKEN = "container-check-token-0001";

class Unavailable extends Error {}
class CheckFailed extends Error {}

const buildahOpts = (Deno.env.get("BUILDAH_OPTS") ?? "").split(/\s+/).filter(Boolean);

async function run(
  program: string,
  args: string[],
  options: { quiet?: boolean; allowFail?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  const result = {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
  if (result.code !== 0 && !options.allowFail) {
    throw new CheckFailed(`${program} ${args.join(" ")} failed:\n${result.stderr.slice(-2000)}`);
  }
  return result;
}

const buildah = (args: string[], options?: { allowFail?: boolean }) =>
  run("buildah", [...buildahOpts, ...args], options);

function ok(message: string): void {
  console.log(`  ok  ${message}`);
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
  ok(message);
}

/** The base to build on: BASE, the pinned official image, or the local stand-in. */
async function chooseBase(): Promise<string[]> {
  const base = Deno.env.get("BASE");
  if (base) return ["--build-arg", `BASE=${base}`];
  const dockerfile = await Deno.readTextFile(`${ROOT}Dockerfile`);
  const pinned = /^ARG BASE=(\S+)$/m.exec(dockerfile)?.[1];
  if (!pinned) throw new CheckFailed("the Dockerfile has no ARG BASE=...");
  const pulled = await buildah(["pull", "--quiet", pinned], { allowFail: true });
  if (pulled.code === 0) return [];
  const local = await buildah(["inspect", "--type", "image", LOCAL_BASE], { allowFail: true });
  if (local.code === 0) {
    console.log(`cannot pull ${pinned}; building on the local stand-in ${LOCAL_BASE}`);
    return ["--build-arg", `BASE=${LOCAL_BASE}`];
  }
  throw new Unavailable(
    `cannot pull ${pinned} and there is no ${LOCAL_BASE}: build one with ` +
      "scripts/local_base_image.sh (needs debootstrap), or pass BASE=<an image you have>",
  );
}

interface ImageConfig {
  User: string;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir: string;
  Volumes: Record<string, unknown> | null;
  Healthcheck?: { Test: string[] };
  StopSignal?: string;
}

function checkConfig(config: ImageConfig): void {
  expect(config.User === "deno", `runs as the unprivileged user "deno" (User: ${config.User})`);
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  expect(!command.includes("-A") && !command.includes("--allow-all"), "no -A / --allow-all");
  expect(
    command.some((a) => a.startsWith("--allow-env=")) &&
      command.some((a) => a.startsWith("--allow-read=")) &&
      command.some((a) => a.startsWith("--allow-write=")),
    "explicit --allow-env=, --allow-read= and --allow-write= lists",
  );
  expect(config.Volumes !== null && "/data" in config.Volumes, "VOLUME /data");
  expect(config.Healthcheck?.Test?.[0] === "CMD", "a HEALTHCHECK");
  expect(config.StopSignal === "SIGTERM", "STOPSIGNAL SIGTERM");
}

/** An OCI runtime that works here: runc, else crun (without cgroups). */
function chooseRuntime(): { program: string; global: string[] } {
  if (findBinary("runc")) return { program: "runc", global: [] };
  if (findBinary("crun")) return { program: "crun", global: ["--cgroup-manager=disabled"] };
  throw new Unavailable("no OCI runtime: apt-get install runc (or crun)");
}

interface Running {
  id: string;
  logs: string[];
  exited: Promise<number>;
  listening: Promise<void>;
}

/** Runs the image's own entrypoint and command in a container sharing the host's network. */
async function startContainer(
  runtime: { program: string; global: string[] },
  rootfs: string,
  config: ImageConfig,
  dataDir: string,
  port: number,
): Promise<Running> {
  const id = `scoreline-check-${Deno.pid}-${port}`;
  const bundle = await Deno.makeTempDir({ prefix: "scoreline-bundle-" });
  await run(runtime.program, ["spec", "--bundle", bundle]);
  const spec = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`));
  const passwd = await Deno.readTextFile(`${rootfs}/etc/passwd`);
  const entry = passwd.split("\n").find((line) => line.startsWith(`${config.User}:`));
  if (!entry) throw new CheckFailed(`user ${config.User} is not in the image's /etc/passwd`);
  const [, , uid, gid] = entry.split(":");
  spec.root = { path: rootfs, readonly: true };
  spec.process.terminal = false;
  spec.process.args = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  spec.process.cwd = config.WorkingDir || "/";
  spec.process.user = { uid: Number(uid), gid: Number(gid) };
  spec.process.env = [
    ...config.Env.filter((e) => !e.startsWith("PORT=") && !e.startsWith("HOST=")),
    `PORT=${port}`,
    "HOST=127.0.0.1",
    `SCORELINE_TOKENS=${TOKEN}`,
  ];
  // No Docker here to map ports: the container shares the host's network and listens on
  // 127.0.0.1. Every other namespace (pid, mount, ipc, uts) is its own, so tini is PID 1.
  spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) =>
    n.type !== "network"
  );
  // This machine mixes cgroup v1 and v2, which the runtimes refuse to manage: run without.
  delete spec.linux.resources;
  delete spec.linux.cgroupsPath;
  spec.mounts = spec.mounts.filter((m: { type: string }) => m.type !== "cgroup");
  spec.mounts.push(
    { destination: "/data", type: "bind", source: dataDir, options: ["rbind", "rw"] },
    { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"] },
  );
  await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(spec));

  const child = new Deno.Command(runtime.program, {
    args: [...runtime.global, "run", "--bundle", bundle, id],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  let onListen!: () => void;
  const listening = new Promise<void>((resolve) => (onListen = resolve));
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        if (line.includes('"msg":"listening"')) onListen();
      }
    }
    if (buffer) logs.push(buffer);
  };
  const exited = Promise.all([pump(child.stdout), pump(child.stderr)])
    .then(() => child.status)
    .then(async (status) => {
      await run(runtime.program, [...runtime.global, "delete", "--force", id], { allowFail: true });
      await Deno.remove(bundle, { recursive: true });
      return status.code;
    });
  return { id, logs, exited, listening };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function checkRunning(url: string): Promise<void> {
  const signal = () => AbortSignal.timeout(10_000);
  const health = await fetch(`${url}/healthz`, { signal: signal() });
  expect(health.status === 200 && (await health.text()) === "ok\n", "GET /healthz is 200 ok");

  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const put = await fetch(`${url}/api/games/container-check`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ status: "live", home: { name: "Lions" }, away: { name: "Tigers" } }),
    signal: signal(),
  });
  const created = await put.json();
  expect(put.status === 201 && created.version > 0, `PUT a game: 201, version ${created.version}`);

  const controller = new AbortController();
  const sse = await fetch(`${url}/api/games/container-check/events`, {
    signal: controller.signal,
  });
  expect(
    sse.status === 200 && sse.headers.get("content-type")?.startsWith("text/event-stream"),
    "GET .../events is a text/event-stream",
  );
  const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const readUntil = async (needle: string) => {
    while (!text.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new CheckFailed(`the SSE stream ended before ${needle}`);
      text += value;
    }
  };
  await within(readUntil(`"type":"snapshot"`), 10_000, "the SSE snapshot");
  expect(text.includes(`id: ${created.version}`), "the SSE snapshot carries the write's version");
  const goal = await fetch(`${url}/api/games/container-check/score`, {
    method: "POST",
    headers,
    body: JSON.stringify({ side: "home", points: 1 }),
    signal: signal(),
  });
  const scored = await goal.json();
  expect(goal.status === 200, "POST a goal: 200");
  await within(readUntil(`id: ${scored.version}`), 10_000, "the SSE update");
  expect(text.includes('"home":{"name":"Lions","score":1}'), "the SSE feed delivers the goal live");
  await reader.cancel();
  controller.abort();

  const metrics = await (await fetch(`${url}/metrics`, { signal: signal() })).text();
  expect(
    /scoreline_writes_total\{action="score",outcome="saved"\} 1/.test(metrics),
    "/metrics counts the goal",
  );
}

async function main(): Promise<number> {
  for (const tool of ["buildah"]) {
    if (!findBinary(tool)) {
      throw new Unavailable(`${tool} is not installed (apt-get install ${tool})`);
    }
  }
  const runtime = chooseRuntime();
  const baseArgs = await chooseBase();

  console.log(`building ${IMAGE} with buildah (this takes a minute the first time)`);
  const started = performance.now();
  await buildah([
    "bud",
    "--quiet",
    "--layers",
    "--format",
    "docker", // the OCI format has no HEALTHCHECK
    "--isolation",
    Deno.env.get("BUILDAH_ISOLATION") ?? "chroot",
    ...baseArgs,
    "-t",
    IMAGE,
    ROOT,
  ]);
  ok(`built ${IMAGE} in ${Math.round((performance.now() - started) / 1000)} s`);

  const inspected = JSON.parse((await buildah(["inspect", "--type", "image", IMAGE])).stdout);
  const config: ImageConfig = inspected.Docker.config;
  checkConfig(config);

  const container = (await buildah(["from", "--quiet", IMAGE])).stdout.trim();
  const dataDir = await Deno.makeTempDir({ prefix: "scoreline-data-" });
  try {
    const rootfs = (await buildah(["mount", container])).stdout.trim();
    const [, uid, gid] = /^deno:x:(\d+):(\d+):/m.exec(
      await Deno.readTextFile(`${rootfs}/etc/passwd`),
    ) ?? [];
    await Deno.chown(dataDir, Number(uid), Number(gid));

    const port = freePort();
    const first = await startContainer(runtime, rootfs, config, dataDir, port);
    await within(first.listening, 30_000, "the service logging that it listens").catch((e) => {
      console.error(first.logs.join("\n"));
      throw e;
    });
    ok(`the container listens (${runtime.program}, read-only root, /data from ${dataDir})`);
    const url = `http://127.0.0.1:${port}`;
    await checkRunning(url);

    const state = JSON.parse(
      (await run(runtime.program, [...runtime.global, "state", first.id])).stdout,
    );
    const pidUid = (await run("ps", ["-o", "uid=", "-p", String(state.pid)])).stdout.trim();
    expect(pidUid === uid, `PID 1 of the container runs as uid ${pidUid}, not root`);

    const health = await run(runtime.program, [
      ...runtime.global,
      "exec",
      "--user",
      `${uid}:${gid}`,
      "--cwd",
      config.WorkingDir,
      ...config.Env.flatMap((e) => ["--env", e.startsWith("PORT=") ? `PORT=${port}` : e]),
      first.id,
      ...config.Healthcheck!.Test.slice(1),
    ], { allowFail: true });
    expect(health.code === 0, "the HEALTHCHECK command passes inside the container");

    // A viewer stays connected through the stop: shutdown must end its stream, not wait on it.
    const viewer = await fetch(`${url}/api/events`);
    const stream = viewer.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("snapshot")) seen += (await stream.read()).value ?? "";
    const stopAt = performance.now();
    await run(runtime.program, [...runtime.global, "kill", first.id, "TERM"]);
    const ended = within(
      (async () => {
        while (!(await stream.read().catch(() => ({ done: true }))).done) { /* drain */ }
      })(),
      10_000,
      "the open SSE stream ending on SIGTERM",
    );
    const code = await within(first.exited, 10_000, "exit after SIGTERM");
    await ended;
    ok("SIGTERM ends an open SSE stream");
    const took = Math.round(performance.now() - stopAt);
    expect(
      code === 0 && first.logs.some((l) => l.includes('"msg":"stopped"')),
      `SIGTERM: exit status ${code} after a clean shutdown, in ${took} ms`,
    );
    expect(
      !first.logs.some((l) => l.includes(TOKEN)),
      "the configured token appears in no log line",
    );

    const second = await startContainer(runtime, rootfs, config, dataDir, freePort());
    try {
      await within(second.listening, 30_000, "the second container listening");
      const port2 = Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(second.logs.join("\n"))?.[1]);
      const again = await fetch(`http://127.0.0.1:${port2}/api/games/container-check`, {
        signal: AbortSignal.timeout(10_000),
      });
      const game = await again.json();
      expect(
        again.status === 200 && game.home.score === 1,
        "a new container on the same /data has the game and its goal",
      );
    } finally {
      await run(runtime.program, [...runtime.global, "kill", second.id, "TERM"], {
        allowFail: true,
      });
      await within(second.exited, 10_000, "the second container stopping");
    }
  } finally {
    await buildah(["umount", container], { allowFail: true });
    await buildah(["rm", container], { allowFail: true });
    await Deno.remove(dataDir, { recursive: true });
    if (!Deno.env.get("KEEP_IMAGE")) await buildah(["rmi", IMAGE], { allowFail: true });
  }
  console.log("container check passed");
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main();
  } catch (error) {
    if (error instanceof Unavailable) {
      console.error(`container check cannot run here: ${error.message}`);
      Deno.exitCode = 2;
    } else {
      console.error(`container check FAILED: ${(error as Error).message}`);
      Deno.exitCode = 1;
    }
  }
}
