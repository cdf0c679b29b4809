// Lint: typescript-eslint's recommended rules, plus
// - the workflow sandbox rule: workflow code (flows' workflow.ts and contract.ts, domains' contract.ts, the platform's
//   workflow helpers) may not import Node builtins, Sequelize/mysql2, the database layer or activity implementations
//   (types only);
// - the isolation rule: a domain imports no other domain, no flow and no API code (test/unit/isolation.test.ts checks
//   the same, and the SQL side, again).
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
    files: ['src/flows/*/workflow.ts', 'src/flows/*/contract.ts', 'src/domains/*/contract.ts', 'src/platform/workflow/**/*.ts', 'src/platform/money.ts'],
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
            { group: ['**/db', '**/db/**', '**/reads', '**/stores'], message: 'Workflows never touch the database; call an activity.' },
            { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: "Import activities by type only: import type { LedgerActivities } from '../../domains/ledger/contract'." },
            { group: ['**/api/**', '**/config', '**/logger', '**/http/**', '**/route', '**/routes'], message: 'Workflows import only @temporalio/workflow, contracts and other workflow files.' },
          ],
        },
      ],
    },
  },

  ...['ledger', 'inventory', 'orders', 'loyalty'].map((domain) => ({
    files: [`src/domains/${domain}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^\\.\\./(?!${domain}/)[a-z-]+/|^\\.\\./\\.\\./(flows|api|domains)(/|$)|^\\.\\./\\.\\./\\.\\./(flows|api|domains)(/|$)`,
              message: 'A domain shares nothing with other domains, flows or the API: only src/platform and its own folder.',
            },
          ],
        },
      ],
    },
  })),
);
