// Lint: typescript-eslint's recommended rules, plus
// - the workflow sandbox rule: workflow code (flows' workflow.ts and contract.ts, services' contract.ts, the platform's
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
    files: ['src/workflows/*/workflow.ts', 'src/workflows/*/contract.ts', 'src/activities/*/contract.ts', 'src/platform/workflow/**/*.ts', 'src/platform/money.ts'],
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
            // A service's contract.ts is its sandbox-safe face; everything else in a service folder (its activities,
            // migrations, reads, routes) and the services registry are imported by type only.
            { regex: '(^|/)activities(/index)?$|(^|/)activities/[^/]+/(?!contract$)', allowTypeImports: true, message: "Import a service's contract, and its activities by type only: import type { LedgerActivities } from '../../activities/ledger/contract'." },
            { group: ['**/api/**', '**/config', '**/logger', '**/http/**', '**/route', '**/routes'], message: 'Workflows import only @temporalio/workflow, contracts and other workflow files.' },
          ],
        },
      ],
    },
  },

  // A service (src/activities/<name>/) shares nothing with another service, the workflows or the API: it imports its own
  // folder, src/platform, src/events and the configuration type — nothing else under src/.
  ...[
    { files: ['src/activities/*/*.ts'], up: '\\.\\./' },
    { files: ['src/activities/*/*/**/*.ts'], up: '\\.\\./\\.\\./' },
  ].map(({ files, up }) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^${up}(?!\\.)|^${up}\\.\\./(?!(platform|events)/|config$)`,
              message: 'A service shares nothing with other services, the workflows or the API: only its own folder, src/platform, src/events and config.',
            },
          ],
        },
      ],
    },
  })),
);
