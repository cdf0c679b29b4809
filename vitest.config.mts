import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal native bridge does not like worker threads.
    pool: 'forks',
    maxWorkers: 2,
    // test/cluster runs on the Temporal cluster only (`npm run test:cluster`, SAGAFLOW_TEMPORAL=cluster), nothing else does.
    include: process.env.SAGAFLOW_TEMPORAL === 'cluster' ? ['test/cluster/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(process.env.SAGAFLOW_TEMPORAL === 'cluster' ? [] : ['test/cluster/**'])],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
