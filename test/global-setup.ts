// Once per `npm test`: migrate the fresh database and bundle the workflows once for every test file.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config';
import { migrate } from '../src/db/migrate';
import { createSequelize } from '../src/db/sequelize';
import { workflowInterceptorModules } from '../src/telemetry/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const config = loadConfig();
  const db = createSequelize(config.db);
  await migrate(db);
  await db.close();
  const { code } = await bundleWorkflowCode({
    workflowsPath: resolve('src/workflows/index.ts'),
    workflowInterceptorModules,
    logger: quietLogger,
  });
  const path = join(process.env.SAGAFLOW_TEST_WORKDIR ?? tmpdir(), `workflow-bundle-${process.pid}.js`);
  writeFileSync(path, code);
  project.provide('workflowBundlePath', path);
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
