// Lint: typescript-eslint's recommended rules, plus the workflow sandbox rule — workflow code may not import Node
// builtins, Sequelize/mysql2, the database layer or activity implementations (types only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['assert', 'buffer', 'child_process', 'crypto', 'dns', 'events', 'fs', 'fs/promises', 'http', 'https', 'net', 'os', 'path', 'process', 'stream', 'timers', 'url', 'util', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.data', 'coverage', 'bench/results', 'test/artifacts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', Buffer: 'readonly', AbortController: 'readonly', __dirname: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.flatMap((m) => [
              { name: m, message: 'Workflow code runs in a deterministic sandbox: no Node builtins.' },
              { name: `node:${m}`, message: 'Workflow code runs in a deterministic sandbox: no Node builtins.' },
            ]),
            { name: 'sequelize', message: 'Workflows never touch the database; call an activity.' },
            { name: 'mysql2', message: 'Workflows never touch the database; call an activity.' },
            { name: '@temporalio/activity', message: 'Activity APIs are not available in workflows.' },
            { name: '@temporalio/client', message: 'Use @temporalio/workflow APIs inside workflows.' },
            { name: '@temporalio/worker', message: 'Use @temporalio/workflow APIs inside workflows.' },
          ],
          patterns: [
            { group: ['**/db', '**/db/**'], message: 'Workflows never touch the database; call an activity.' },
            { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: "Import activities by type only: import type { Activities } from '../activities'." },
            { group: ['**/api/**', '**/config', '**/logger'], message: 'Workflows import only @temporalio/workflow, src/shared and other workflow files.' },
          ],
        },
      ],
    },
  },
);
