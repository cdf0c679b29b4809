// Finds (or builds) the Temporal CLI, whose `server start-dev` is the real Temporal server with the Web UI embedded.
// Order: $TEMPORAL_CLI, `temporal` on PATH, our cache (~/.cache/sagaflow/bin), a `go install` into that cache.
// Returns null when none works; callers may then try the SDK's own cached download (needs internet).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { log } from './log.mjs';

export const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const CLI_VERSION = 'v1.5.1';

export function cacheDir() {
  return process.env.SAGAFLOW_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sagaflow');
}

/** True when `path` runs and answers its version command (`temporal --version`, `go version`). */
function works(path, versionArgs = ['--version']) {
  if (!path || !existsSync(path)) return false;
  const r = spawnSync(path, versionArgs, { encoding: 'utf8' });
  return r.status === 0;
}

function onPath(name, versionArgs) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (works(candidate, versionArgs)) return candidate;
  }
  return null;
}

export function findTemporalCli({ build = true } = {}) {
  if (process.env.TEMPORAL_CLI) {
    if (works(process.env.TEMPORAL_CLI)) return process.env.TEMPORAL_CLI;
    log.warn(`TEMPORAL_CLI=${process.env.TEMPORAL_CLI} does not run; looking elsewhere`);
  }
  const cached = join(cacheDir(), 'bin', 'temporal');
  const found = onPath('temporal') ?? (works(cached) ? cached : null);
  if (found || !build) return found;

  const go = onPath('go', ['version']) ?? (works('/usr/local/go/bin/go', ['version']) ? '/usr/local/go/bin/go' : null);
  if (!go) {
    log.warn('no Temporal CLI found and no Go toolchain to build one');
    return null;
  }
  mkdirSync(join(cacheDir(), 'bin'), { recursive: true });
  log.info(`building the Temporal CLI ${CLI_VERSION} with Go into ${join(cacheDir(), 'bin')} (first run only, a few minutes)`);
  const started = Date.now();
  const r = spawnSync(go, ['install', `${CLI_MODULE}@${CLI_VERSION}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: join(cacheDir(), 'bin'), CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
  });
  if (r.status !== 0 || !works(cached)) {
    log.warn(`go install ${CLI_MODULE}@${CLI_VERSION} failed (exit ${r.status})`);
    return null;
  }
  log.info(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s`);
  return cached;
}

export const INSTALL_HELP = `The Temporal CLI is needed (it runs the real Temporal dev server).
Install one of:
  - Go >= 1.22, then: go install ${CLI_MODULE}@${CLI_VERSION}   (sagaflow does this itself when Go is on PATH)
  - a release binary of the Temporal CLI, then: export TEMPORAL_CLI=/path/to/temporal`;
