import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal native bridge does not like worker threads.
    pool: 'forks',
    maxWorkers: 2,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
