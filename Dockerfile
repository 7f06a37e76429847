# Rolecall: one image for the HTTP server (default CMD) and the BullMQ workers
# (override the command with `npx tsx app/worker.ts`).
FROM node:20-bookworm-slim

WORKDIR /app
RUN chown node:node /app
USER node

# Dependencies first for layer caching. `npm ci` runs postinstall (prisma generate into generated/),
# which needs the Prisma schema, config and engine shim, so those are copied before it.
# Dev dependencies are kept on purpose: tsx runs the TypeScript sources directly (no build step).
COPY --chown=node:node package.json package-lock.json prisma.config.ts tsconfig.json ./
COPY --chown=node:node prisma ./prisma
RUN npm ci --no-audit --no-fund && npm cache clean --force

# Source, copied per directory so the host's node_modules/, generated/ and .data/ never enter the image.
COPY --chown=node:node app ./app
COPY --chown=node:node agents ./agents
COPY --chown=node:node bot ./bot
COPY --chown=node:node orchestrator ./orchestrator
COPY --chown=node:node roles ./roles
COPY --chown=node:node web-admin ./web-admin

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data

EXPOSE 3000

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

CMD ["npx", "tsx", "app/server.ts"]
