/**
 * nginx in front of a service under test, with the site configuration the README recommends
 * (deploy/nginx.conf and the deploy/scoreline-proxy.conf it includes; with `tls`, also the HTTPS
 * and HTTP/2 block of deploy/nginx-tls.conf): the one launcher every proxy test uses. nginx says nothing when it is ready,
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
  /** With `tls`: the HTTPS (and HTTP/2) origin of deploy/nginx-tls.conf's server block. */
  tlsUrl?: string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Shortens the site's 10 s client timeouts, so a test can watch them cut a slow client off. */
  timeoutSeconds?: number;
  /** Serves deploy/nginx-tls.conf too, with this certificate and key (PEM file paths). */
  tls?: { certificate: string; key: string };
  /**
   * Changes deploy/scoreline-proxy.conf before it is used: how a test makes the proxy a worse
   * one (one that drops WebSocket upgrade headers, or buffers streams).
   */
  proxyConf?: (text: string) => string;
}

const deploy = (name: string) => new URL(`../../deploy/${name}`, import.meta.url);

/**
 * Starts Debian's nginx with the documented site (deploy/nginx.conf) on a free port, proxying to
 * `upstream` (host:port). Only ports, paths and (with `timeoutSeconds`) the client timeouts are
 * changed; the included deploy/scoreline-proxy.conf is copied as it is (unless `proxyConf` edits
 * it).
 */
export async function startNginx(upstream: string, options: NginxOptions = {}): Promise<Nginx> {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-nginx-" });
  await Deno.chmod(dir, 0o777);
  let site = await Deno.readTextFile(deploy("nginx.conf"));
  if (options.timeoutSeconds !== undefined) {
    site = site.replaceAll(/timeout 10s;/g, `timeout ${options.timeoutSeconds}s;`);
  }
  // A relative include resolves beside the main configuration file, here as in /etc/nginx.
  const proxyConf = await Deno.readTextFile(deploy("scoreline-proxy.conf"));
  await Deno.writeTextFile(
    `${dir}/scoreline-proxy.conf`,
    options.proxyConf ? options.proxyConf(proxyConf) : proxyConf,
  );
  const tlsSite = options.tls ? await Deno.readTextFile(deploy("nginx-tls.conf")) : "";
  for (;;) {
    const port = freePort();
    const tlsPort = options.tls ? freePort() : 0;
    const tls = options.tls
      ? tlsSite.replace("listen 443 ssl http2;", `listen 127.0.0.1:${tlsPort} ssl http2;`)
        .replace("/etc/nginx/tls/scoreline.crt", options.tls.certificate)
        .replace("/etc/nginx/tls/scoreline.key", options.tls.key)
      : "";
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
  ${tls}
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
      if (up) {
        const tlsUrl = options.tls ? `https://127.0.0.1:${tlsPort}` : undefined;
        return { url: `http://127.0.0.1:${port}`, port, tlsUrl, stop };
      }
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 25))]);
      if (done === false) break;
    }
    const log = await Deno.readTextFile(`${dir}/error.log`).catch(() => "");
    await stop();
    if (!/Address already in use/.test(log)) throw new Error(`nginx did not start:\n${log}`);
  }
}
