# Scoreline as a container: `deno task container:check` builds this with buildah and checks it.
#
# The base is pinned by tag and digest (the multi-arch index of denoland/deno:2.9.6). Where Docker
# Hub cannot be reached, build a local stand-in with scripts/local_base_image.sh and pass
# --build-arg BASE=localhost/deno-local:2.9.6.
ARG BASE=denoland/deno:2.9.6@sha256:2014dc167ece617ef7e7ba40631ac2234c59e75ce693e7cc2dc2602b3c87859d
FROM ${BASE}

WORKDIR /app
RUN mkdir -p /data && chown deno:deno /data

# Dependencies first, from the frozen lockfile, as the unprivileged user that owns DENO_DIR: this
# layer is rebuilt only when deno.json or deno.lock change, and the image never fetches at run.
COPY deno.json deno.lock ./
USER deno
RUN deno install --frozen

# The code (.dockerignore leaves out tests, docs, data) stays root-owned, so it is read-only to
# the service: a compromised process cannot rewrite it.
COPY . .
RUN deno cache --frozen main.ts scripts/healthcheck.ts

ENV PORT=8080 \
    HOST=0.0.0.0 \
    SCORELINE_DATA=/data/scoreline.db \
    NO_COLOR=1
VOLUME ["/data"]
EXPOSE 8080

# Liveness only: /readyz would have an orchestrator kill a healthy process whose Redis is away.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--frozen", "--allow-net=127.0.0.1", "--allow-env=PORT", "scripts/healthcheck.ts"]

# The base's entrypoint (tini, then deno) stays: tini forwards SIGTERM to deno, and main.ts
# drains feeds, finishes writes and closes the store within 8 s, inside Docker's 10 s grace.
STOPSIGNAL SIGTERM
CMD ["run", "--cached-only", "--frozen", \
     "--allow-net", \
     "--allow-env=PORT,HOST,SCORELINE_TOKENS,SCORELINE_TOKENS_FILE,SCORELINE_JWT_SECRET,SCORELINE_JWKS_URL,SCORELINE_JWT_AUDIENCE,SCORELINE_DATA,SCORELINE_REDIS_URL,SCORELINE_HEARTBEAT,SCORELINE_WRITE_ORIGINS,SCORELINE_WRITE_RATE,SCORELINE_FEEDS_PER_CLIENT,SCORELINE_MAX_FEEDS,SCORELINE_FEED_RATE,SCORELINE_WS_PER_CLIENT,SCORELINE_MAX_WEBSOCKETS,SCORELINE_TRUST_PROXY,SCORELINE_TRUSTED_PROXIES,SCORELINE_IPV6_PREFIX,SCORELINE_WS_IDLE_TIMEOUT,SCORELINE_LOG", \
     "--allow-read=/app,/data,/run/secrets", \
     "--allow-write=/data", \
     "--allow-sys=hostname", \
     "main.ts"]
