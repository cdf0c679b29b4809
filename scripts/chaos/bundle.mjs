#!/usr/bin/env node
// The chaos run's prebuilt workflow bundle, so that replacement workers start fast: built from the flows registry
// (src/flows workflowModules, through src/platform/temporal/bundle.ts) with the OpenTelemetry workflow interceptors,
// exactly as the test setup builds it. Runs in its own process (webpack is CPU-heavy and must not block the chaos
// script's event loop):
//
//   node scripts/chaos/bundle.mjs <output.js>
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.argv[2];
if (!out || process.argv.length > 3) {
  console.error('usage: node scripts/chaos/bundle.mjs <output.js>');
  process.exit(2);
}

async function load(file) {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(join(root, file)).href, import.meta.url);
  return mod.default ?? mod;
}

const noop = () => undefined;
const logger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

try {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { workflowModules } = await load('src/flows/index.ts');
  const { writeWorkflowEntry } = await load('src/platform/temporal/bundle.ts');
  const { workflowInterceptorModules } = await load('src/platform/telemetry/worker.ts');
  const { code } = await bundleWorkflowCode({ workflowsPath: writeWorkflowEntry(workflowModules), workflowInterceptorModules, logger });
  const outPath = resolve(out);
  mkdirSync(dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, outPath);
  console.log(`workflow bundle: ${outPath} (${(Buffer.byteLength(code) / 1024).toFixed(0)} KiB, ${workflowModules.length} flow modules)`);
} catch (err) {
  console.error(`workflow bundle failed: ${err?.stack ?? err}`);
  process.exit(1);
}
