#!/usr/bin/env node
// `npm test`: provisions ephemeral services (the two MariaDB servers with sagaflow's databases, or fresh databases on
// DATABASE_URL's server; an in-memory Temporal dev server; all on free ports), runs the whole vitest suite against them
// (arguments pass through to vitest), and tears everything down, also when tests fail or the run is interrupted.
// Its last line of output is always `N passed, N failed[, N skipped]`, from vitest's JSON report (CI reads it); with
// SAGAFLOW_TEST_SUMMARY_FILE set, that line is also written there (.ci/run re-prints it after the other steps).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './lib/browser.mjs';
import { ensureDeps } from './lib/deps.mjs';
import { log } from './lib/log.mjs';
import { cleanup, stopOnSignals } from './lib/procs.mjs';
import { loadSearchAttributes } from './lib/project.mjs';
import { provision } from './lib/stack.mjs';
import { ensureNodeRuntime } from './lib/node-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await ensureNodeRuntime(); // Node 24 LTS, whatever started this script
stopOnSignals();

/**
 * `N passed, N failed[, N skipped]` from vitest's JSON report. A test file that failed as a whole (an import error, a
 * failing beforeAll) has no failed test of its own, and an unhandled error fails the run with every test green: each
 * counts as a failure, so the line never says `0 failed` about a run that failed. No report: `0 passed, 1 failed`.
 */
function summaryLine(reportFile, vitestCode) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    return '0 passed, 1 failed';
  }
  let failed = report.numFailedTests ?? 0;
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && !file.assertionResults?.some((t) => t.status === 'failed')) failed += 1;
  }
  if (vitestCode !== 0 && failed === 0) failed = 1;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  return `${report.numPassedTests ?? 0} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

let code = 1;
let summary = '0 passed, 1 failed';
try {
  ensureDeps(root);
  const chromium = ensureChromium();
  const started = Date.now();
  const stack = await provision({ mode: 'test', root, searchAttributes: await loadSearchAttributes(root) });
  log.info(`services ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const reportFile = join(stack.work, 'vitest.json');
  // Both reporters: the console one for people, the JSON one for the summary line (read before cleanup removes it).
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`];
  const vitest = spawn(join(root, 'node_modules', '.bin', 'vitest'), ['run', ...reporters, ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_ENV: 'test',
      // The suite sees the databases of this run only: a DATABASE_URL from the caller's shell would name the caller's
      // own database (with DATABASE_URL set, provisioning already put fresh, prefixed databases on its server).
      DATABASE_URL: undefined,
      ...stack.databaseEnv,
      ...stack.brokerEnv,
      ...stack.payloadEnv,
      SAGAFLOW_CODEC_PORT: String(stack.codec.port),
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_ADDRESSES: (stack.temporal.addresses ?? [stack.temporal.address]).join(','),
      TEMPORAL_UI_URL: stack.temporal.uiUrl ?? '',
      TEMPORAL_CLI: stack.temporal.cli,
      SAGAFLOW_TEST_WORKDIR: stack.work,
      ...(chromium ? { CHROMIUM_PATH: chromium } : {}),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    },
  });
  code = await new Promise((resolve) => vitest.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  if (!existsSync(reportFile)) {
    log.error(`vitest wrote no report (${reportFile}); it exited ${code}`);
    code ||= 1;
  }
  summary = summaryLine(reportFile, code);
} catch (err) {
  log.error(err.message);
} finally {
  await cleanup();
}
// Last, after cleanup's messages: CI takes the final line of output as the result.
if (process.env.SAGAFLOW_TEST_SUMMARY_FILE) {
  try {
    writeFileSync(process.env.SAGAFLOW_TEST_SUMMARY_FILE, `${summary}\n`);
  } catch (err) {
    log.warn(`could not write SAGAFLOW_TEST_SUMMARY_FILE: ${err.message}`);
  }
}
console.log(summary);
process.exit(code);
