#!/usr/bin/env node
// `npm test`: provisions ephemeral services (a fresh MariaDB database, an in-memory Temporal dev server on free ports),
// runs the whole vitest suite against them (arguments pass through to vitest), and tears everything down, also when
// tests fail or the run is interrupted.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './lib/browser.mjs';
import { ensureDeps } from './lib/deps.mjs';
import { log } from './lib/log.mjs';
import { cleanup, stopOnSignals } from './lib/procs.mjs';
import { loadSearchAttributes } from './lib/project.mjs';
import { provision } from './lib/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
stopOnSignals();
let code = 1;
try {
  ensureDeps(root);
  const chromium = ensureChromium();
  const started = Date.now();
  const stack = await provision({ mode: 'test', root, searchAttributes: await loadSearchAttributes(root) });
  log.info(`services ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const vitest = spawn(join(root, 'node_modules', '.bin', 'vitest'), ['run', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_UI_URL: stack.temporal.uiUrl ?? '',
      TEMPORAL_CLI: stack.temporal.cli,
      SAGAFLOW_TEST_WORKDIR: stack.work,
      ...(chromium ? { CHROMIUM_PATH: chromium } : {}),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    },
  });
  code = await new Promise((resolve) => vitest.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
} catch (err) {
  log.error(err.message);
} finally {
  await cleanup();
}
process.exit(code);
