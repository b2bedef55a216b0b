/**
 * A TCP proxy in front of a service under test (127.0.0.1, port 0) that can misbehave the way
 * networks between a client and the service do: refuse some requests (a proxy that does not pass
 * WebSocket upgrades), cut a connection after the request went through but before the answer
 * came back (a venue's Wi-Fi dropping at the worst moment), or stop passing the service's bytes
 * on for a while (a client too slow to read, so the service's buffers fill). Everything it opened
 * is closed by close(), which waits for its pumps to end.
 */

/** What to do with a request, decided from its head (request line and headers, as text). */
export type RequestFate = "forward" | "refuse" | "cut";

export interface TcpProxyOptions {
  onRequest?: (head: string) => RequestFate;
}

export interface TcpProxy extends AsyncDisposable {
  url: string;
  /** Stops passing the service's bytes on, so they pile up in socket buffers, until resume(). */
  pause(): void;
  resume(): void;
  /** Requests refused and answers cut so far. */
  readonly refused: number;
  readonly cut: number;
  close(): Promise<void>;
}

const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/;
const REFUSAL = new TextEncoder().encode(
  "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
);

export function startTcpProxy(upstreamPort: number, options: TcpProxyOptions = {}): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const pumps = new Set<Promise<void>>();
  let paused: { promise: Promise<void>; resolve: () => void } | null = null;
  let refused = 0;
  let cut = 0;
  let closed = false;

  const closeConn = (conn: Deno.Conn) => {
    if (!conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };

  const serve = async (client: Deno.Conn) => {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
    } catch {
      closeConn(client);
      return;
    }
    conns.add(upstream);
    let cutPending = false;
    const end = () => {
      closeConn(client);
      closeConn(upstream);
    };
    const up = async () => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const n = await client.read(buffer);
          if (n === null) break;
          const chunk = buffer.subarray(0, n);
          const text = new TextDecoder().decode(chunk);
          if (REQUEST_LINE.test(text)) {
            const fate = options.onRequest?.(text.split("\r\n\r\n")[0]!) ?? "forward";
            if (fate === "refuse") {
              refused++;
              await client.write(REFUSAL);
              break;
            }
            if (fate === "cut") cutPending = true;
          }
          await writeAll(upstream, chunk);
        }
      } catch {
        // Either side went away.
      }
      end();
    };
    const down = async () => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          if (paused) await paused.promise;
          const n = await upstream.read(buffer);
          if (n === null) break;
          if (cutPending) {
            // The service answered: the request went through. Nothing of the answer does.
            cut++;
            break;
          }
          await writeAll(client, buffer.subarray(0, n));
        }
      } catch {
        // Either side went away.
      }
      end();
    };
    await Promise.all([up(), down()]);
  };

  const accepting = (async () => {
    try {
      for await (const client of listener) {
        if (closed) {
          client.close();
          continue;
        }
        conns.add(client);
        const pump = serve(client);
        pumps.add(pump);
        pump.finally(() => pumps.delete(pump));
      }
    } catch {
      // The listener was closed.
    }
  })();

  const close = async () => {
    if (closed) return;
    closed = true;
    listener.close();
    paused?.resolve();
    for (const conn of [...conns]) closeConn(conn);
    await accepting;
    while (pumps.size > 0) await Promise.all(pumps);
  };

  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    pause() {
      if (paused) return;
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      paused = { promise, resolve };
    },
    resume() {
      paused?.resolve();
      paused = null;
    },
    get refused() {
      return refused;
    },
    get cut() {
      return cut;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}
