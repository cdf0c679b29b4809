# syntax=docker/dockerfile:1
# One image for every sagaflow process; the command picks the role:
#   node dist/api/server.js      the HTTP API (default)
#   node dist/worker.js          a Temporal worker for the units in WORKER_SERVE (flows, ledger, inventory, …; all by default)
#   node dist/migrate.js up      the migrations of every database (one-shot)
#
#   docker build -t sagaflow .
#
# Install scripts: package.json's allowScripts denies every dependency's install script (protobufjs, @swc/core,
# esbuild, @scarf/scarf), but only npm >= 11 reads that field, and the image's bundled npm may be older; --ignore-scripts
# applies the same policy with any npm. None is needed: the native parts (@swc/core-*, @temporalio/core-bridge, esbuild)
# ship prebuilt binaries in their packages.
ARG NODE_IMAGE=node:24-bookworm-slim

##### deps: every dependency, dev ones included (TypeScript, for the build) #####
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts

##### build: compile to dist/ and prebuild the Temporal workflow bundle #####
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-workflows.mjs ./scripts/bundle-workflows.mjs
RUN npm run build \
 && node scripts/bundle-workflows.mjs dist/workflow-bundle.js

##### runtime: production dependencies and dist/ only, as the unprivileged `node` user #####
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts
COPY --from=build /app/dist ./dist
# A 2 MB young generation and two malloc arenas keep a worker with 200 cached flows under 300 MB (bench/NOTES.md).
ENV NODE_ENV=production WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-semi-space-size=2
USER node
EXPOSE 3000
# No HEALTHCHECK: docker-compose.yml declares the health checks per service (the worker has no port to probe).
CMD ["node", "dist/api/server.js"]
