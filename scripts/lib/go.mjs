// The machine's Go for the Go code in this repository (examples/gin-gorm: the Gin + GORM services, the submitter and
// the DTM Go client suite). Module and build caches live under ~/.cache/sagaflow (a first build costs minutes on a small
// machine; later ones seconds); modules come through the Go proxy (GOPROXY as the caller has it), toolchain: local.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GIN_GORM_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'gin-gorm');
const cache = join(homedir(), '.cache', 'sagaflow');

/**
 * The environment for `go` and the programs it built: caches under ~/.cache/sagaflow unless the caller set
 * GOPATH/GOCACHE; LOG_LEVEL one DTM's Go logger knows (it exits at start on any other, e.g. sagaflow's `silent`).
 */
export function goEnv(env = process.env) {
  return {
    ...env,
    LOG_LEVEL: ['debug', 'info', 'warn', 'error'].includes(env.LOG_LEVEL ?? '') ? env.LOG_LEVEL : 'error',
    GOPATH: env.GOPATH ?? join(cache, 'go'),
    GOCACHE: env.GOCACHE ?? join(cache, 'go-build'),
    GOFLAGS: env.GOFLAGS ?? '-modcacherw',
    GOTOOLCHAIN: env.GOTOOLCHAIN ?? 'local',
  };
}

/** The Go version line, or undefined when `go` is not on PATH. */
export function goVersion() {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Builds examples/gin-gorm's programs (srv-a, srv-b, submit, suite) into `out` (outside the repository: binaries are
 * never committed). Resolves with their paths; rejects with go's output when the build fails.
 */
export function buildGinGorm(out = join(cache, 'gin-gorm', 'bin'), { onOutput } = {}) {
  if (!goVersion()) return Promise.reject(new Error('Go is not installed (go on PATH): https://go.dev/dl/'));
  mkdirSync(out, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn('go', ['build', '-o', `${out}/`, './cmd/...'], { cwd: GIN_GORM_DIR, env: goEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const s of [child.stdout, child.stderr]) s.on('data', (d) => { output += d; onOutput?.(String(d)); });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`go build failed (${code}):\n${output}`));
      const bin = (name) => join(out, name);
      resolve({ srvA: bin('srv-a'), srvB: bin('srv-b'), submit: bin('submit'), suite: bin('suite') });
    });
  });
}
