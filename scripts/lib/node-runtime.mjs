// Node 24 LTS for every script of the project (dev, tests, chaos, bench, fuzz), whatever Node started it: a machine
// whose system Node is older (Node 20 reached end of life on 2026-04-30) gets the runtime from the npm registry — the
// `node-<platform>-<arch>` package, pinned below — cached outside the clone in ~/.cache/sagaflow/node/<version>, like
// the Temporal CLI. The script then runs again under it, with that Node first on PATH so every process it starts
// (vitest, tsx, the worker and API) runs on it too. SAGAFLOW_NODE=/path/to/node picks another binary.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { log } from './log.mjs';

export const NODE_VERSION = '24.22.3';
const MAJOR = Number(NODE_VERSION.split('.')[0]);

function cachedNode() {
  if (process.env.SAGAFLOW_NODE) return process.env.SAGAFLOW_NODE;
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sagaflow', 'node', NODE_VERSION);
  const bin = join(dir, 'node_modules', pkg, 'bin', 'node');
  if (existsSync(bin)) return bin;
  log.info(`Node ${process.versions.node} is older than ${MAJOR}: installing Node ${NODE_VERSION} from the npm registry into ${dir} (first run only)`);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', dir, `${pkg}@${NODE_VERSION}`], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(bin)) {
    throw new Error(`could not install ${pkg}@${NODE_VERSION} (npm exit ${r.status}); install Node ${MAJOR} LTS or set SAGAFLOW_NODE`);
  }
  return bin;
}

/** Returns when this process already runs on Node ≥ 24; otherwise runs the same script under Node 24 and exits with it. */
export async function ensureNodeRuntime() {
  if (Number(process.versions.node.split('.')[0]) >= MAJOR) return;
  const node = cachedNode();
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
  });
  // Ctrl-C reaches the child from the terminal itself (same process group) and it cleans up: this process only waits.
  // A signal sent to this process alone is passed on.
  process.on('SIGINT', () => {});
  for (const s of ['SIGTERM', 'SIGHUP']) process.on(s, () => child.kill(s));
  const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  process.exit(code);
}
