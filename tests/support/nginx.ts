/**
 * nginx in front of a service under test, with the site configuration the README recommends
 * (deploy/nginx.conf): the one launcher both proxy tests use. nginx says nothing when it is ready,
 * so readiness is a connect that succeeds (a short, bounded wait between tries); a port taken in
 * the meantime is retried on another.
 */
import { findBinary } from "./binaries.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export interface Nginx {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts Debian's nginx with the documented site (deploy/nginx.conf) on a free port, proxying to
 * `upstream` (host:port). `timeoutSeconds` shortens the site's 10 s client timeouts, so a test can
 * watch them cut a slow client off. Nothing else in the site is changed.
 */
export async function startNginx(
  upstream: string,
  options: { timeoutSeconds?: number } = {},
): Promise<Nginx> {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-nginx-" });
  await Deno.chmod(dir, 0o777);
  let site = await Deno.readTextFile(new URL("../../deploy/nginx.conf", import.meta.url));
  if (options.timeoutSeconds !== undefined) {
    site = site.replaceAll(/timeout 10s;/g, `timeout ${options.timeoutSeconds}s;`);
  }
  for (;;) {
    const port = freePort();
    const conf = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${
      site.replace("server 127.0.0.1:8080;", `server ${upstream};`)
        .replace("listen 80;", `listen 127.0.0.1:${port};`)
    }
}
`;
    await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
    const child = new Deno.Command(findBinary("nginx")!, {
      args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const stop = async () => {
      try {
        child.kill("SIGQUIT");
      } catch {
        // Already gone.
      }
      await child.status;
      await stderr.cancel();
      await Deno.remove(dir, { recursive: true });
    };
    // Ready once it accepts connections, or failed if it exits (a port taken meanwhile: retry).
    const exited = child.status.then(() => false);
    for (let i = 0; i < 200; i++) {
      const up = await Deno.connect({ hostname: "127.0.0.1", port }).then((c) => {
        c.close();
        return true;
      }, () => false);
      if (up) return { url: `http://127.0.0.1:${port}`, port, stop };
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 25))]);
      if (done === false) break;
    }
    const log = await Deno.readTextFile(`${dir}/error.log`).catch(() => "");
    await stop();
    if (!/Address already in use/.test(log)) throw new Error(`nginx did not start:\n${log}`);
  }
}
