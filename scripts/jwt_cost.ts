/**
 * What one JWT verification costs, per algorithm, through the service's own verifier (http/jwt.ts:
 * `jose` on Deno's WebCrypto, the key set served on 127.0.0.1 and cached): the figure SECURITY.md
 * quotes for a flood of well-formed JWTs with bad signatures, which cost the same.
 *
 *   deno run --allow-net=127.0.0.1 scripts/jwt_cost.ts
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { JwtVerifier } from "../http/jwt.ts";
import { silentLogger } from "../core/log.ts";
import { systemClock } from "../core/clock.ts";
const secret = new TextEncoder().encode("a-secret-of-at-least-32-bytes-long!!");
const claims = { sub: "s", exp: Math.floor(Date.now() / 1000) + 3600, scoreline: "*" };
for (const alg of ["HS256", "RS256", "ES256", "EdDSA"] as const) {
  let key: CryptoKey | Uint8Array = secret, jwks: unknown = null;
  if (alg !== "HS256") {
    const pair = await generateKeyPair(alg, { extractable: true });
    key = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k", alg }] };
  }
  const server = jwks
    ? Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => Response.json(jwks))
    : null;
  const verifier = new JwtVerifier({
    secret,
    jwksUrl: server ? new URL(`http://127.0.0.1:${server.addr.port}/`) : null,
    audience: null,
  }, { clock: systemClock(), log: silentLogger });
  const token = await new SignJWT(claims).setProtectedHeader({ alg, kid: "k" }).sign(key);
  for (let i = 0; i < 200; i++) await verifier.verify(token);
  const n = 5000, t0 = performance.now();
  for (let i = 0; i < n; i++) if (!(await verifier.verify(token)).ok) throw new Error(alg);
  console.log(`${alg}: ${((performance.now() - t0) * 1000 / n).toFixed(1)} µs per verification`);
  await verifier.close();
  await server?.shutdown();
}
