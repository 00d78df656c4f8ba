# syntax=docker/dockerfile:1
#
# Girder image: one image for the API, the worker and the migrate job; the command picks which.
#   docker build -t girder .
#   docker run girder                                   # API on :3000 (default CMD)
#   docker run girder node dist/apps/worker/src/main.js # worker, health on :3001
#   docker run girder node dist/apps/api/src/migrate.js # create the database + migrate, exit
# docker-compose.yml wires all three together (see docker/README.md).

# Every stage uses the same base as the runtime, so the native prebuilt binaries that npm picks
# (e.g. @node-rs/argon2 for linux-x64-gnu / linux-arm64-gnu) match the image that runs them.
FROM node:24-bookworm-slim AS base
WORKDIR /app

# --- deps: all dependencies (dev included: the build needs the Nest CLI and TypeScript) -------
FROM base AS deps
COPY package.json package-lock.json ./
# npm 11 (bundled with Node 24) honours package.json "allowScripts"; no compiler toolchain is
# needed because every native dependency ships prebuilt binaries.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# --- build: compile to dist/, then drop dev dependencies from node_modules ----------------------
FROM base AS build
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime

# tini as PID 1: forwards SIGTERM/SIGINT to node (which shuts down gracefully on its own) and
# reaps zombies, which node as PID 1 does not do.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    PORT=3000 \
    WORKER_HEALTH_PORT=3001 \
    STORAGE_DIR=/app/storage
WORKDIR /app

# Application files stay root-owned (read-only for the app user); only STORAGE_DIR is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# Created here and owned by `node` so that a named volume mounted at /app/storage starts out
# with the same ownership (Docker copies it into an empty volume on first use). No VOLUME
# instruction: it would leave an anonymous volume behind for every container, migrate included.
RUN mkdir -p /app/storage && chown node:node /app/storage

USER node
EXPOSE 3000 3001

# Probes the API's liveness endpoint with Node's built-in fetch (no curl in the slim image).
# Shell form so ${PORT} is expanded at check time. The worker, which listens on
# WORKER_HEALTH_PORT instead, overrides this in docker-compose.yml; migrate disables it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:${PORT:-3000}/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

ENTRYPOINT ["/usr/bin/tini", "--"]
# Exec form, no npm/sh in between: the signal goes straight from tini to node.
CMD ["node", "dist/apps/api/src/main.js"]
