/**
 * Deno's single-write line: a plain `Deno.serve` answer of a chosen total size (head and body),
 * driven by `wrk`, server pinned to core 0 and `wrk` to core 1; prints the server's CPU per
 * request for each size. Deno 2.9.6's HTTP/1 writer sends head and body in one write only when
 * both fit its 512-byte per-connection buffer (`DEFAULT_WRITE_CAPACITY` in Deno's
 * `libs/http_h1/conn.rs`): above that, two writes per answer. README, "The bare floor".
 *
 *   deno run -A bench/answer_size.ts [--sizes 480,496,512,528,560] [--seconds 5] [--body stream]
 *
 * `--body stream` sends the same bytes as a one-chunk ReadableStream: Deno then writes the head,
 * the chunk and the end of a chunked body together, in one write whatever the size.
 *
 * Not a test: it measures. Each size gets its own server process, stopped by its PID.
 */
import { takeOption } from "./args.ts";
import { cpuSeconds, delay, freePort, pinned, which } from "./proc.ts";

/** The child: answers every request with `size` bytes in all (status line and headers included). */
const SERVER = `
const size = Number(Deno.args[0]);
const head = (length) => "HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\n" +
  "cache-control: no-store\\r\\ncontent-length: " + length + "\\r\\ndate: " +
  new Date().toUTCString() + "\\r\\n\\r\\n";
// Deno writes the head itself: the body is what is left of the size once it is counted.
const body = size - head(100).length;
const bytes = new TextEncoder().encode("x".repeat(Math.max(body, 1)));
const headers = { "content-type": "application/json", "cache-control": "no-store" };
const stream = Deno.args[2] === "stream";
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[1]), onListen() { console.log("up"); } },
  () => new Response(stream
    ? new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } })
    : bytes, { headers }));
`;

const args = [...Deno.args];
const option = (name: string, fallback: string) => takeOption(args, name, fallback);

const sizes = option("--sizes", "480,496,512,528,560").split(",").map(Number);
const seconds = Number(option("--seconds", "5"));
const body = option("--body", "fixed");
if (body !== "fixed" && body !== "stream") throw new Error("--body is fixed or stream");
if (!which("wrk")) throw new Error("wrk is not installed (apt-get install wrk)");

const script = await Deno.makeTempFile({ suffix: ".js" });
await Deno.writeTextFile(script, SERVER);
try {
  console.log(`| answer, bytes (${body} body) | requests/s | server CPU per request, µs |`);
  console.log("|--:|--:|--:|");
  for (const size of sizes) {
    const port = freePort();
    const command = [
      ...pinned(0),
      Deno.execPath(),
      "run",
      "--allow-net",
      script,
      String(size),
      String(port),
      body,
    ];
    const server = new Deno.Command(command[0]!, {
      args: command.slice(1),
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    try {
      const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
      await reader.read(); // "up"
      reader.releaseLock();
      const wrk = (s: number) => {
        const load = [...pinned(1), "wrk", "-t1", "-c50", `-d${s}s`, `http://127.0.0.1:${port}/`];
        return new Deno.Command(load[0]!, { args: load.slice(1), stdout: "piped" }).output();
      };
      await wrk(2); // warm up
      const before = cpuSeconds(server.pid);
      const out = new TextDecoder().decode((await wrk(seconds)).stdout);
      const cpu = cpuSeconds(server.pid) - before;
      const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const perSecond = Math.round(total / seconds);
      console.log(
        `| ${size} | ${perSecond.toLocaleString("en")} | ${(cpu * 1e6 / total).toFixed(1)} |`,
      );
    } finally {
      server.kill("SIGTERM");
      await server.status;
      await server.stdout.cancel().catch(() => {});
      await delay(100);
    }
  }
} finally {
  await Deno.remove(script);
}
