/**
 * The deployment files as shipped, run for real: deploy/nginx-tls.conf (HTTPS and HTTP/2) with a
 * certificate this test makes, SSE read through it by `curl --http2` and by Chromium; the kiosk
 * pages' error page that reloads itself while the service restarts (deploy/scoreline-proxy.conf);
 * and compose.yaml, which no Docker engine here can run, checked for what can be checked: it
 * builds the project's Dockerfile, and its nginx configuration passes `nginx -t`.
 */
import assert from "node:assert/strict";
import { findBinary, skipWithout } from "./support/binaries.ts";
import { launchBrowser } from "./support/browser.ts";
import { call, gameBody } from "./support/http.ts";
import { startNginx } from "./support/nginx.ts";
import { spawnMain } from "./support/process.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";

/** The little of the DOM the browser test reads (this file is type-checked without the DOM). */
interface InPage {
  document: {
    querySelector(selector: string): {
      shadowRoot:
        | { querySelectorAll(selector: string): Iterable<{ textContent: string | null }> }
        | null;
    } | null;
  };
}

const needs = (...names: string[]) => names.some((name) => skipWithout(name));

/** A self-signed certificate for 127.0.0.1, made with openssl for this run. */
async function certificate(): Promise<{ dir: string; certificate: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-tls-" });
  const certificate = `${dir}/scoreline.crt`;
  const key = `${dir}/scoreline.key`;
  const made = await new Deno.Command(findBinary("openssl")!, {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      key,
      "-out",
      certificate,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  return { dir, certificate, key };
}

/**
 * The service behind nginx with the shipped TLS block and a certificate made for this run; the
 * game `cup` exists at 0-0.
 */
async function withTlsFront(
  run: (front: { server: TestServer; tlsUrl: string }) => Promise<void>,
): Promise<void> {
  const tls = await certificate();
  await using server = await startServer();
  const proxy = await startNginx(new URL(server.url).host, { tls });
  try {
    await put(server.url, 0);
    await run({ server, tlsUrl: proxy.tlsUrl! });
  } finally {
    await proxy.stop();
    await Deno.remove(tls.dir, { recursive: true });
  }
}

function put(url: string, home: number) {
  return call(url, "/api/games/cup", { method: "PUT", token: TOKEN, body: gameBody(home, 0) });
}

/** A child's stdout, line by line, waiting for a line that matches; every line is kept. */
class Lines {
  readonly seen: string[] = [];
  #buffer = "";
  #next = 0;

  constructor(private readonly reader: ReadableStreamDefaultReader<string>) {}

  async until(match: (line: string) => boolean): Promise<string> {
    for (;;) {
      while (this.#next < this.seen.length) {
        const line = this.seen[this.#next++]!;
        if (match(line)) return line;
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error(`the stream ended before a match:\n${this.seen.join("\n")}`);
      const parts = (this.#buffer + value).split("\n");
      this.#buffer = parts.pop()!;
      this.seen.push(...parts.map((line) => line.replace(/\r$/, "")));
    }
  }
}

Deno.test({
  name:
    "through the shipped TLS block, curl --http2 reads SSE over HTTP/2 as it is written, with no hop-by-hop header",
  ignore: needs("nginx", "openssl", "curl"),
  fn: () =>
    withTlsFront(async ({ server, tlsUrl }) => {
      const curl = new Deno.Command(findBinary("curl")!, {
        args: ["--http2", "--insecure", "--silent", "--show-error", "--no-buffer", "--include"]
          .concat(["--max-time", "30", `${tlsUrl}/api/games/cup/events`]),
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = curl.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const lines = new Lines(reader);
      try {
        await lines.until((line) => line === "event: snapshot");
        const head = lines.seen.slice(0, lines.seen.indexOf(""));
        assert.equal(head[0]?.trim(), "HTTP/2 200", "HTTP/2, through nginx's TLS block");
        const headers = new Map(
          head.slice(1).map((line) => {
            const at = line.indexOf(":");
            return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
          }),
        );
        assert.equal(headers.get("content-type"), "text/event-stream; charset=utf-8");
        assert.equal(headers.get("cache-control"), "no-cache, no-transform");
        for (const hopByHop of ["connection", "transfer-encoding", "keep-alive", "upgrade"]) {
          assert.equal(headers.has(hopByHop), false, `no ${hopByHop} header over HTTP/2`);
        }
        // A goal while the stream stays open arrives at once: nothing buffers it.
        await put(server.url, 1);
        await lines.until((line) => line === "event: update");
        const data = await lines.until((line) => line.startsWith("data:"));
        assert.equal(JSON.parse(data.slice(5)).game.home.score, 1);
      } finally {
        curl.kill("SIGTERM");
        await curl.status;
        await reader.cancel();
      }
    }),
});

Deno.test({
  name:
    "through the shipped TLS block over HTTP/2, a page of the proxy's own origin (port included) may write, another may not",
  ignore: needs("nginx", "openssl", "curl"),
  fn: () =>
    withTlsFront(async ({ tlsUrl }) => {
      const write = async (origin: string) => {
        const output = await new Deno.Command(findBinary("curl")!, {
          args: ["--http2", "--insecure", "--silent", "--show-error", "--output", "/dev/null"]
            .concat(["--write-out", "%{http_version} %{http_code}", "--max-time", "10"])
            .concat(["-X", "POST", `${tlsUrl}/api/games/cup/score`])
            .concat(["-H", `Origin: ${origin}`, "-H", `Authorization: Bearer ${TOKEN}`])
            .concat(["-H", "Content-Type: application/json"])
            .concat(["--data", JSON.stringify({ side: "home", points: 1 })]),
          stdout: "piped",
          stderr: "piped",
        }).output();
        return new TextDecoder().decode(output.stdout);
      };
      // The scorer console served by this front writes from its origin, which has a port here.
      assert.equal(await write(tlsUrl), "2 200");
      assert.equal(await write("https://elsewhere.example"), "2 403");
    }),
});

Deno.test({
  name:
    "through the shipped TLS block, Chromium loads the embed over HTTP/2 and its widget shows goals live over a WebSocket, and over SSE on HTTP/2 where WebSocket is missing",
  ignore: needs("nginx", "openssl", "chromium"),
  fn: () =>
    withTlsFront(async ({ server, tlsUrl }) => {
      // The certificate is this test's own: Chromium is told to accept it.
      await using chrome = await launchBrowser(["--ignore-certificate-errors"]);
      const page = await chrome.browser.newPage();
      const scores = (want: string) =>
        page.waitForFunction((expected) => {
          const root = (globalThis as unknown as InPage).document.querySelector("scoreline-game")
            ?.shadowRoot;
          const shown = [...(root?.querySelectorAll(".score") ?? [])].map((e) => e.textContent);
          return shown.join("-") === expected;
        }, want);
      const protocol = () =>
        page.evaluate(() =>
          (performance.getEntriesByType("navigation")[0] as unknown as { nextHopProtocol: string })
            .nextHopProtocol
        );
      // As shipped: the widget's first choice, a WebSocket (browsers open it over HTTP/1.1 beside
      // the page's HTTP/2 connection: nginx does not carry WebSockets over HTTP/2).
      await page.goto(`${tlsUrl}/embed/games/cup`);
      assert.equal(await protocol(), "h2");
      await scores("0-0");
      await server.opened("ws");
      await put(server.url, 2);
      await scores("2-0");
      // Where WebSocket is missing, the stream: SSE on the page's HTTP/2 connection.
      await page.addInitScript(() => delete (globalThis as { WebSocket?: unknown }).WebSocket);
      await page.reload();
      assert.equal(await protocol(), "h2");
      await scores("2-0");
      await server.opened("sse");
      await put(server.url, 3);
      await scores("3-0");
      await page.close();
    }),
});

Deno.test({
  name:
    "while the service restarts, kiosk pages get nginx's page that reloads itself, and the API keeps nginx's 502",
  ignore: needs("nginx"),
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const env = { PORT: String(port), SCORELINE_DATA: ":memory:", SCORELINE_TOKENS: TOKEN };
    let app = await spawnMain(env);
    const proxy = await startNginx(`127.0.0.1:${port}`);
    try {
      const waiting = await call(proxy.url, "/games/cup");
      assert.equal(waiting.status, 404, "the service's own waiting page passes through");
      assert.match(waiting.text, /Waiting for this game/);

      app.kill("SIGTERM");
      await app.exited;
      for (const path of ["/", "/?refresh=5", "/games/cup", "/embed/games/cup", "/console"]) {
        const page = await call(proxy.url, path);
        assert.equal(page.status, 503, path);
        assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8", path);
        assert.equal(page.headers.get("refresh"), "10", path);
        assert.equal(page.headers.get("retry-after"), "10", path);
        assert.equal(page.headers.get("cache-control"), "no-store", path);
        assert.match(page.text, /<meta http-equiv="refresh" content="10">/, path);
        assert.match(page.text, /As of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, "says when, in the page");
      }
      const api = await call(proxy.url, "/api/games");
      assert.equal(api.status, 502, "programs get nginx's plain answer");
      assert.equal(api.headers.get("refresh"), null);

      // Back on the same port, the same URL shows the page again, by itself on the next reload.
      app = await spawnMain(env);
      await put(app.url, 3);
      const back = await call(proxy.url, "/games/cup");
      assert.equal(back.status, 200);
      assert.equal(back.headers.get("content-type"), "text/html; charset=utf-8");
      assert.match(back.text, /Lions/);
    } finally {
      await proxy.stop();
      app.kill("SIGTERM");
      await app.exited;
    }
  },
});

Deno.test({
  name: "compose.yaml builds the project's Dockerfile, and its nginx configuration passes nginx -t",
  ignore: needs("nginx"),
  async fn() {
    const compose = await Deno.readTextFile(new URL("../compose.yaml", import.meta.url));
    const anchor = /^x-scoreline: &scoreline\n((?: {2}.*\n|\n)+)/m.exec(compose)?.[1] ?? "";
    assert.match(anchor, /^ {2}build: \.$/m, "the instances are built from ./Dockerfile");
    assert.doesNotMatch(
      anchor,
      /denoland\/deno|\.\/:\/app|command:/,
      "no other image, code or command",
    );
    assert.match(compose, /^ {2}scoreline-a: \*scoreline$/m);
    assert.match(compose, /^ {2}scoreline-b: \*scoreline$/m);
    assert.match(
      compose,
      /\.\/deploy\/scoreline-proxy\.conf:\/etc\/nginx\/scoreline-proxy\.conf:ro/,
    );

    // nginx -t as the proxy container would run it: the same files at the same relative places.
    // The instances' names resolve only inside compose's network; here they are two local ports.
    const dir = await Deno.makeTempDir({ prefix: "scoreline-compose-" });
    try {
      const conf =
        (await Deno.readTextFile(new URL("../deploy/nginx-compose.conf", import.meta.url)))
          .replace("server scoreline-a:8080;", "server 127.0.0.1:18080;")
          .replace("server scoreline-b:8080;", "server 127.0.0.1:18081;");
      await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
      await Deno.copyFile(
        new URL("../deploy/scoreline-proxy.conf", import.meta.url),
        `${dir}/scoreline-proxy.conf`,
      );
      const checked = await new Deno.Command(findBinary("nginx")!, {
        args: [
          "-t",
          "-p",
          dir,
          "-c",
          `${dir}/nginx.conf`,
          "-e",
          `${dir}/error.log`,
          "-g",
          `pid ${dir}/nginx.pid;`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = new TextDecoder().decode(checked.stderr);
      assert.equal(checked.code, 0, said);
      assert.match(said, /syntax is ok/);
      assert.match(said, /test is successful/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
