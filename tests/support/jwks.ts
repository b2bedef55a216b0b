/**
 * A JSON Web Key Set served by the test itself on 127.0.0.1 (port 0), as an identity provider
 * would serve it: the keys can be rotated, and the server can be made to fail (500) or to hang,
 * so tests see what the service does when its key set cannot be fetched. It counts its fetches.
 */
import type { JWK } from "jose";

export type JwksMode = "ok" | "error" | "hang";

export interface JwksServer extends AsyncDisposable {
  url: string;
  /** The keys served (public JWKs); replace to rotate. */
  keys: JWK[];
  mode: JwksMode;
  /** Requests answered (or held) so far. */
  readonly fetches: number;
  /** Resolves once at least `count` requests have arrived. */
  fetched(count: number): Promise<void>;
  close(): Promise<void>;
}

export function serveJwks(keys: JWK[]): JwksServer {
  let fetches = 0;
  const waiters = new Set<{ count: number; resolve: () => void }>();
  // Held requests end when the server closes, so shutdown never waits on them.
  let release!: () => void;
  const closing = new Promise<void>((resolve) => (release = resolve));
  const state = {
    keys,
    mode: "ok" as JwksMode,
  };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async () => {
    fetches++;
    for (const waiter of waiters) {
      if (fetches >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
    if (state.mode === "hang") {
      await closing;
      return new Response(null, { status: 503 });
    }
    if (state.mode === "error") return new Response("down", { status: 500 });
    return Response.json({ keys: state.keys });
  });
  const close = async () => {
    release();
    await server.shutdown();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(value: JWK[]) {
      state.keys = value;
    },
    get mode() {
      return state.mode;
    },
    set mode(value: JwksMode) {
      state.mode = value;
    },
    get fetches() {
      return fetches;
    },
    fetched: (count) =>
      fetches >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.add({ count, resolve })),
    close,
    [Symbol.asyncDispose]: close,
  };
}
