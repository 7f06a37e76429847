# syntax=docker/dockerfile:1
# Rolecall: one image for the HTTP server (default command) and the BullMQ workers (command
# `node --enable-source-maps dist/worker.js`, with WORKER_HEALTH_PORT for its health check).
# Three stages: `build` compiles with every dependency (npm run build → dist/), `deps` installs the production
# dependencies only, and the runtime image gets node_modules from `deps`, dist/ from `build` (our code, the generated
# Prisma client, the SQL migrations, templates and console assets) and roles/. No TypeScript, no dev dependencies.
# Node: a supported LTS (24); keep it in step with package.json "engines" and .ci/node-version.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# `npm ci` runs postinstall (prisma generate into generated/), which needs the schema, config and engine shim.
COPY package.json package-lock.json prisma.config.ts tsconfig.json ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY app ./app
COPY agents ./agents
COPY bot ./bot
COPY orchestrator ./orchestrator
COPY web-admin ./web-admin
COPY scripts ./scripts
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the Prisma client is already generated into the build, and native packages ship prebuilt.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM/SIGINT to node (which then shuts down cleanly) and reaps zombies. The node images
# do not include it (Docker's --init would, but Kubernetes has no such flag), so it comes from Debian.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data \
    ROLES_DIR=/app/roles
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --chown=root:root package.json ./
# Role files are configuration that admins edit in the console: owned by the app user (mount a volume here to keep
# edits and share them between server and workers). Everything else is read-only to it.
COPY --chown=node:node roles ./roles
RUN mkdir -p /app/.data && chown node:node /app/.data

# The node images' unprivileged user (uid 1000).
USER node
EXPOSE 3000 3001

# The server's liveness; worker containers override it with their WORKER_HEALTH_PORT (see docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/server.js"]
