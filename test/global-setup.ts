// Once per `npm test`: migrate every store (each domain's database, each ledger shard, the API's) and bundle the
// workflows once for every test file, from the flows registry.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config';
import { workflowModules } from '../src/workflows';
import { migrateStores } from '../src/migrate';
import { writeWorkflowEntry } from '../src/platform/temporal/bundle';
import { failureConverterPath } from '../src/platform/codec/data-converter';
import { workflowInterceptorModules } from '../src/platform/telemetry/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  await migrateStores(loadConfig());
  const { code } = await bundleWorkflowCode({
    workflowsPath: writeWorkflowEntry(workflowModules),
    workflowInterceptorModules,
    failureConverterPath,
    logger: quietLogger,
  });
  const path = join(process.env.SAGAFLOW_TEST_WORKDIR ?? tmpdir(), `workflow-bundle-${process.pid}.js`);
  writeFileSync(path, code);
  project.provide('workflowBundlePath', path);
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
