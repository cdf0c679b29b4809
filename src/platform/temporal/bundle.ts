// The workflow bundle's entry, derived from the flows registry: a generated module re-exporting every flow's workflow
// module (plus any extra, e.g. test probes), so no hand-kept list of workflows exists anywhere. It is written under
// node_modules/.cache: the bundler resolves the SDK's own workflow modules from the entry's location.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function cacheDir(): string {
  const sdk = require.resolve('@temporalio/workflow');
  const nodeModules = sdk.slice(0, sdk.lastIndexOf(`${join('node_modules', '@temporalio')}`) + 'node_modules'.length);
  const dir = join(nodeModules, '.cache', 'sagaflow');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The entry for `modules`: one file per distinct list (named by its hash), written atomically, reused by every start. */
export function writeWorkflowEntry(modules: readonly string[]): string {
  const text = modules.map((m) => `export * from ${JSON.stringify(m.replace(/\.(ts|js)$/, ''))};`).join('\n') + '\n';
  const path = join(cacheDir(), `workflows-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.ts`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return path;
}

/**
 * The prebuilt bundle to load: scripts/bundle-workflows.mjs writes `<name>.js` without and `<name>.traced.js` with the
 * OpenTelemetry workflow interceptors; a traced worker takes the traced one when it is there.
 */
export function prebuiltBundle(path: string, traced: boolean): string {
  const tracedPath = path.replace(/(\.js)?$/, '.traced.js');
  return traced && existsSync(tracedPath) ? tracedPath : path;
}
