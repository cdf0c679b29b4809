// Prebuilds the Temporal workflow bundle (webpack + swc, run by @temporalio/worker) into one file, so a production
// worker loads it with WORKFLOW_BUNDLE_PATH instead of bundling the TypeScript sources at every start.
//
//   node scripts/bundle-workflows.mjs <output.js>
//
// The entry is generated from the flows registry (src/workflows/index.ts: every flow folder's workflow module), found from
// this script's location (not the working directory), so the sources must be present: the Docker build stage runs this
// before the runtime stage drops them.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { tsImport } = await import('tsx/esm/api');
const load = (file) => tsImport(pathToFileURL(resolve(root, file)).href, import.meta.url);
const { workflowModules } = await load('src/workflows/index.ts');
const { writeWorkflowEntry } = await load('src/platform/temporal/bundle.ts');
// The failure converter every worker names (encoded messages and stack traces) is part of the sandbox, so of the bundle.
const { failureConverterPath } = await load('src/platform/codec/data-converter.ts');
const workflowsPath = writeWorkflowEntry(workflowModules);
// Two bundles: <output> without and <output stem>.traced.js with the OpenTelemetry workflow interceptors; a worker with
// a trace exporter loads the traced one (src/platform/temporal/bundle.ts prebuiltBundle), one without pays nothing.
const workflowInterceptorModules = [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

const out = process.argv[2];
if (!out || process.argv.length > 3) {
  console.error('usage: node scripts/bundle-workflows.mjs <output.js>');
  process.exit(2);
}
const outPath = resolve(out);

const noop = () => undefined;
const logger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

try {
  const tracedPath = outPath.replace(/(\.js)?$/, '.traced.js');
  for (const [path, interceptors] of [[outPath, []], [tracedPath, workflowInterceptorModules]]) {
    const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: interceptors, failureConverterPath, logger });
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, path); // never leave a half-written bundle behind
    console.log(`workflow bundle: ${path} (${(Buffer.byteLength(code) / 1024).toFixed(0)} KiB) from ${workflowModules.length} flow(s)`);
  }
} catch (err) {
  console.error(`workflow bundle failed: ${err?.stack ?? err}`);
  process.exit(1);
}
