// The workflow bundle: the entry generated from the flows registry (src/platform/temporal/bundle.ts) bundles into code
// that holds every flow's workflows, and Temporal's bundler refuses workflow code that reaches for Node modules
// (directly or through a library such as Sequelize) — the sandbox rule that eslint also enforces.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import vm from 'node:vm';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flows, workflowModules } from '../../src/workflows';
import { writeWorkflowEntry } from '../../src/platform/temporal/bundle';

const noop = () => undefined;
const silentLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

describe('workflow bundle', () => {
  // Temp workflow files live under node_modules/.cache so that their bare imports resolve like the project's own;
  // a file in /tmp would fail for "module not found" instead of for the reason under test.
  let dir: string;
  beforeAll(() => {
    const cache = resolve('node_modules', '.cache', 'sagaflow-tests');
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(join(cache, 'bundle-'));
  });
  // The generated entry is not removed: it is one file per distinct module list, shared by every worker start.
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Plain ES modules: the bundler transpiles TypeScript outside node_modules only.
  const workflowFile = (name: string, source: string) => {
    const path = join(dir, `${name}.mjs`);
    writeFileSync(path, source);
    return path;
  };

  /** Names of the functions a module exports (a workflow module exports nothing else callable). */
  const functionsOf = (mod: Record<string, unknown>) =>
    Object.entries(mod)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k)
      .sort();

  /**
   * The workflow functions a bundle serves: the bundle evaluated in a fresh VM context as the worker does (the worker
   * too gives it an empty `__webpack_module_cache__`), then the bundle's workflows module loaded through the
   * `__TEMPORAL__.importWorkflows()` that the SDK's bundler generates around the entry.
   */
  function workflowsOfBundle(code: string): string[] {
    const context = vm.createContext({ __webpack_module_cache__: {} });
    vm.runInContext(code, context);
    return functionsOf(context.__TEMPORAL__.importWorkflows());
  }

  it('when the entry generated from the flows registry is bundled, then the bundle holds every workflow of every flow, and only those', async () => {
    expect(workflowModules).toEqual(flows.map((f) => f.workflowsPath));
    const entry = writeWorkflowEntry(workflowModules);
    // The entry re-exports each flow's workflow module, nothing hand-listed.
    expect(readFileSync(entry, 'utf8').trim().split('\n')).toHaveLength(workflowModules.length);

    const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger: silentLogger });
    const registered = (await Promise.all(workflowModules.map(async (m) => functionsOf(await import(m))))).flat().sort();
    expect(registered).toEqual(expect.arrayContaining(['checkoutOrder', 'transferMoney']));
    expect(workflowsOfBundle(code)).toEqual(registered);
  });

  it('when a workflow file in the temp dir imports only @temporalio/workflow, then it bundles (the temp location is not the problem)', async () => {
    const workflowsPath = workflowFile(
      'clean',
      `import { sleep } from '@temporalio/workflow';\nexport async function napper() { await sleep(1); }\n`,
    );
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: silentLogger });
    expect(code).toContain('napper');
  });

  /** Bundles `workflowsPath`, keeping what the bundler logged as errors (webpack's report). */
  async function bundle(workflowsPath: string, options: { ignoreModules?: string[] } = {}) {
    const logged: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => void logged.push(String(message)) };
    const result = await bundleWorkflowCode({ workflowsPath, logger, ...options }).then(
      (ok) => ({ ok, error: undefined }),
      (error: Error) => ({ ok: undefined, error }),
    );
    return { ...result, logged: logged.join('\n') };
  }

  it("when a workflow imports 'fs', then bundling fails naming it a disallowed module", async () => {
    const workflowsPath = workflowFile('uses-fs', `import fs from 'fs';\nexport async function reader() { return fs.readFileSync('/etc/hostname', 'utf8'); }\n`);
    const { ok, error } = await bundle(workflowsPath);
    expect(ok).toBeUndefined();
    expect(error?.message).toMatch(/importing the following disallowed modules:\s+- 'fs'/);
  });

  it("when a workflow imports 'node:fs', then bundling fails and the bundler's report names node:fs", async () => {
    const workflowsPath = workflowFile(
      'uses-node-fs',
      `import { readFileSync } from 'node:fs';\nexport async function reader() { return readFileSync('/etc/hostname', 'utf8'); }\n`,
    );
    const { ok, error, logged } = await bundle(workflowsPath);
    expect(ok).toBeUndefined();
    // The "node:" scheme stops webpack itself before Temporal's disallowed-modules check gets to report.
    expect(error?.message).toMatch(/Webpack finished with errors/);
    expect(logged).toMatch(/ERROR in node:fs/);
  });

  it('when a workflow imports sequelize, then bundling fails on the Node modules it drags in', async () => {
    const workflowsPath = workflowFile('uses-sequelize', `import { Sequelize } from 'sequelize';\nexport async function querier() { return typeof Sequelize; }\n`);
    // pg-hstore is an optional dependency of sequelize's Postgres dialect that is not installed: left alone, webpack's
    // "module not found" would be the first failure. Ignored, the failure is Temporal's own check.
    const { ok, error } = await bundle(workflowsPath, { ignoreModules: ['pg-hstore'] });
    expect(ok).toBeUndefined();
    expect(error?.message).toMatch(/importing the following disallowed modules/);
    expect(error?.message).toMatch(/- '(fs|path|crypto|events|stream|net|tls|os)'/);
  });
});
