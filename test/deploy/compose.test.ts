// The container deployment files, checked without a Docker engine: docker-compose.yml against the official Compose
// Specification JSON schema plus the structure the stack relies on, the Dockerfile's stages and runtime rules, and
// the workflow-bundle script the image build runs.
//
// compose-spec.json beside this file is the Compose Specification schema (github.com/compose-spec/compose-spec,
// schema/compose-spec.json, Apache-2.0), byte for byte as vendored in the PyPI package check-jsonschema 0.39.0
// (check_jsonschema/builtin_schemas/vendor/compose-spec.json). To refresh it, take the same file from a newer release.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { services as serviceRegistry } from '../../src/activities';
import { searchAttributes } from '../../src/workflows';
// @ts-expect-error a plain ES module of the scripts, no types
import { SERVER_VERSION, UI_VERSION } from '../../scripts/lib/temporal-cluster.mjs';
// @ts-expect-error a plain ES module of the scripts, no types
import { DYNAMIC_CONFIG } from '../../scripts/lib/temporal-server.mjs';

const root = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

type Service = {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  container_name?: string;
  ports?: unknown[];
  environment?: Record<string, string> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  restart?: string;
  deploy?: { replicas?: number };
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

// Compose files may use YAML 1.1 merge keys (`<<: *anchor`); parse them the way Compose does.
const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as Compose;
const services = compose.services;

function validator() {
  const schema = JSON.parse(read('test/deploy/compose-spec.json'));
  // Strict about unknown keywords and formats; the official schema itself trips strictTypes/strictRequired.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

const argv = (v: string | string[] | undefined) => (Array.isArray(v) ? v : (v ?? '').split(/\s+/).filter(Boolean));
const env = (s: Service): Record<string, string> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
    : { ...s.environment };
const dependsOn = (s: Service): Record<string, string> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']))
    : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v?.condition ?? 'service_started']));

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const validate = validator();
    const ok = validate(compose);
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    expect(errors).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check is not vacuous: a misspelt key or a bad depends_on condition is rejected', () => {
    const validate = validator();
    const bad = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    bad.services['worker-flows'].container_nam = 'w';
    expect(validate(bad)).toBe(false);
    const bad2 = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    bad2.services.api.depends_on = { migrate: { condition: 'service_finished' } };
    expect(validate(bad2)).toBe(false);
  });

  const workerServices = ['worker-flows', ...serviceRegistry.map((d) => `worker-${d.name}`)];

  it('has the whole stack: two domain servers, two Temporal nodes on PostgreSQL, HAProxy, two APIs, the flows worker and one worker per domain', () => {
    for (const name of ['mysql-a', 'mysql-b', 'postgresql', 'temporal-schema', 'temporal-1', 'temporal-2', 'temporal-ui', 'temporal-admin-tools', 'haproxy', 'migrate', 'api', 'api-2', ...workerServices]) {
      expect(services, name).toHaveProperty(name);
    }
    expect(Object.keys(services).filter((n) => n.startsWith('worker')).sort()).toEqual([...workerServices].sort());
  });

  it('gives each worker service its units: flows, or exactly one domain (a new domain needs its service here)', () => {
    expect(env(services['worker-flows']).WORKER_SERVE).toBe('flows');
    for (const d of serviceRegistry) expect(env(services[`worker-${d.name}`]).WORKER_SERVE, d.name).toBe(d.name);
  });

  it('every depends_on names a service of this file', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(dependsOn(s))) expect(services, `${name} -> ${dep}`).toHaveProperty(dep);
    }
  });

  it('pins every third-party image to a tag', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.image) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
    // The versions the dev stack builds from source (scripts/lib/temporal-cluster.mjs): server and Web UI server.
    for (const node of ['temporal-1', 'temporal-2']) expect(services[node].image, node).toBe(`temporalio/server:${SERVER_VERSION.slice(1)}`);
    expect(services['temporal-ui'].image).toBe(`temporalio/ui:${UI_VERSION.slice(1)}`);
    expect(services['temporal-admin-tools'].image).toBe(`temporalio/admin-tools:${SERVER_VERSION.slice(1)}`);
    expect(services['temporal-schema'].image).toBe(`temporalio/admin-tools:${SERVER_VERSION.slice(1)}`);
    expect(services.haproxy.image).toMatch(/^haproxy:2\.6\./);
  });

  it('api, workers and migrate build the runtime stage of ./Dockerfile, each with its own command', () => {
    const commands: Record<string, string[]> = {
      api: ['node', 'dist/api/server.js'],
      'api-2': ['node', 'dist/api/server.js'],
      ...Object.fromEntries(workerServices.map((w) => [w, ['node', 'dist/worker.js']])),
      migrate: ['node', 'dist/migrate.js', 'up'],
    };
    for (const [name, command] of Object.entries(commands)) {
      const s = services[name];
      const build = typeof s.build === 'string' ? { context: s.build } : s.build;
      expect(build, name).toBeDefined();
      expect(resolve(root, build?.context ?? '.'), name).toBe(root);
      expect(build?.dockerfile ?? 'Dockerfile', name).toBe('Dockerfile');
      expect(build?.target ?? 'runtime', name).toBe('runtime');
      expect(argv(s.command), name).toEqual(command);
    }
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
  });

  it('gives api, workers and migrate the same databases and Temporal settings, every flow crossing both servers', () => {
    for (const name of ['api', 'api-2', ...workerServices, 'migrate']) {
      expect(env(services[name]), name).toMatchObject({
        LEDGER_DATABASE_URLS: 'mysql://sagaflow:sagaflow@mysql-a:3306/sagaflow_ledger_0,mysql://sagaflow:sagaflow@mysql-b:3306/sagaflow_ledger_1',
        ORDERS_DATABASE_URL: 'mysql://sagaflow:sagaflow@mysql-a:3306/sagaflow_orders',
        API_DATABASE_URL: 'mysql://sagaflow:sagaflow@mysql-a:3306/sagaflow_api',
        INVENTORY_DATABASE_URL: 'mysql://sagaflow:sagaflow@mysql-b:3306/sagaflow_inventory',
        LOYALTY_DATABASE_URL: 'mysql://sagaflow:sagaflow@mysql-b:3306/sagaflow_loyalty',
        TEMPORAL_ADDRESS: 'haproxy:7233',
        API_HOST: '0.0.0.0',
        API_PORT: '3000',
        NODE_ENV: 'production',
        API_KEYS: '${API_KEYS:-change-me}',
      });
    }
    // Only HAProxy is published: the API replicas and the Temporal nodes are reached through it.
    for (const name of ['api', 'api-2', 'temporal-1', 'temporal-2']) expect(services[name].ports ?? [], name).toEqual([]);
    expect(services.haproxy.ports).toEqual(['3000:3000', '7233:7233', '36789:36789']);
  });

  it('lets every worker service scale: no container_name and no host port', () => {
    for (const w of workerServices) {
      expect(services[w], w).not.toHaveProperty('container_name');
      expect(services[w].ports ?? [], w).toEqual([]);
    }
    // A fixed container name anywhere else would not block scaling the worker, but none is needed.
    for (const [name, s] of Object.entries(services)) expect(s, name).not.toHaveProperty('container_name');
  });

  it('starts api and worker only after the migrations and the search attributes are in place', () => {
    expect(dependsOn(services.migrate)).toEqual({ 'mysql-a': 'service_healthy', 'mysql-b': 'service_healthy' });
    expect(services.migrate.restart).toBe('no');
    for (const name of ['api', 'api-2', ...workerServices]) {
      expect(dependsOn(services[name]), name).toMatchObject({
        migrate: 'service_completed_successfully',
        'temporal-admin-tools': 'service_completed_successfully',
      });
    }
    expect(dependsOn(services['temporal-schema'])).toEqual({ postgresql: 'service_healthy' });
    for (const node of ['temporal-1', 'temporal-2']) expect(dependsOn(services[node]), node).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    for (const db of ['mysql-a', 'mysql-b', 'postgresql']) {
      expect(services[db].healthcheck?.test, db).toBeTruthy();
      expect(services[db].healthcheck?.disable, db).not.toBe(true);
    }
  });

  it("keeps Temporal's own persistence on PostgreSQL 15 (as the dev cluster), two nodes with the dev cluster's dynamic config", () => {
    for (const node of ['temporal-1', 'temporal-2']) {
      expect(env(services[node]), node).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', BIND_ON_IP: '0.0.0.0' });
      expect(services[node].volumes, node).toContain('./deploy/temporal/dynamic-config.yaml:/etc/temporal/dynamicconfig/sagaflow.yaml:ro');
    }
    expect(services.postgresql.image).toMatch(/^postgres:15\./);
    const dynamic = parse(read('deploy/temporal/dynamic-config.yaml')) as Record<string, Array<{ value: unknown }>>;
    expect(Object.fromEntries(Object.entries(dynamic).map(([k, v]) => [k, v[0].value]))).toEqual(DYNAMIC_CONFIG);
    const schema = argv(services['temporal-schema'].command).join(' ');
    for (const s of ['postgresql/v12/temporal', 'postgresql/v12/visibility']) expect(schema).toContain(s);
    expect(env(services['temporal-ui'])).toMatchObject({ TEMPORAL_ADDRESS: 'haproxy:7233' });
    expect(services['temporal-ui'].ports).toContain('8233:8080');
  });

  it('puts HAProxy with the dev stack\'s configuration file in front of both APIs and both Temporal frontends', () => {
    expect(services.haproxy.volumes).toContain('./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(env(services.haproxy)).toMatchObject({
      API_SERVER_1: 'api:3000',
      API_SERVER_2: 'api-2:3000',
      TEMPORAL_SERVER_1: 'temporal-1:7233',
      TEMPORAL_SERVER_2: 'temporal-2:7233',
    });
    const cfg = read('deploy/haproxy/haproxy.cfg');
    // Every address the file expands comes from the compose environment (HAProxy refuses an empty bind).
    const settings = cfg.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    const expanded = [...new Set([...settings.matchAll(/"\$\{([A-Z0-9_]+)\}"/g)].map((m) => m[1]))];
    expect(expanded).toContain('DTM_BIND');
    expect(Object.keys(env(services.haproxy))).toEqual(expect.arrayContaining(expanded));
    for (const line of ['http-check send meth GET uri /readyz', 'option redispatch', 'retry-on conn-failure', 'server api-1 "${API_SERVER_1}" check', 'server api-2 "${API_SERVER_2}" check']) {
      expect(cfg).toContain(line);
    }
    for (const w of workerServices) expect((services[w] as { deploy?: { replicas?: number } }).deploy?.replicas, w).toBe(2);
  });

  it('initialises both MySQL servers with the sagaflow account, each on its own named volume', () => {
    const sources = new Set<string>();
    for (const db of ['mysql-a', 'mysql-b']) {
      const volumes = (services[db].volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
      expect(volumes.some((v) => /^\.\/deploy\/mysql-init:\/docker-entrypoint-initdb\.d(:ro)?$/.test(v)), db).toBe(true);
      const named = volumes.map((v) => v.split(':')[0]).filter((src) => !src.startsWith('.') && !src.startsWith('/'));
      expect(named.length, db).toBe(1);
      for (const n of named) {
        expect(compose.volumes ?? {}, n).toHaveProperty(n);
        sources.add(n);
      }
    }
    expect(sources.size).toBe(2);
    const sql = read('deploy/mysql-init/01-sagaflow.sql');
    expect(sql).toMatch(/CREATE USER IF NOT EXISTS 'sagaflow'@'%' IDENTIFIED BY 'sagaflow'/);
    expect(sql).toMatch(/GRANT ALL PRIVILEGES ON `sagaflow\\_%`\.\* TO 'sagaflow'@'%'/);
    // Every database the services are given lives on one of the two servers under that grant.
    const urls = Object.entries(env(services.api)).filter(([k]) => k.endsWith('DATABASE_URL') || k === 'LEDGER_DATABASE_URLS').flatMap(([, v]) => v.split(','));
    for (const u of urls) expect(u).toMatch(/^mysql:\/\/sagaflow:sagaflow@mysql-[ab]:3306\/sagaflow_[a-z0-9_]+$/);
    expect(new Set(urls.map((u) => new URL(u).hostname))).toEqual(new Set(['mysql-a', 'mysql-b']));
  });

  it('registers exactly the search attributes of the flows registry, with their types, with the temporal CLI', () => {
    const admin = services['temporal-admin-tools'];
    const defined = Object.entries(searchAttributes).map(([name, type]) => `${name}=${type}`).sort();
    expect(defined).toEqual(expect.arrayContaining(['CustomerId=Keyword', 'FlowStatus=Keyword', 'OrderId=Keyword', 'TransferId=KeywordList']));
    expect(env(admin).SEARCH_ATTRIBUTES.split(/\s+/).sort()).toEqual(defined);
    const script = argv(admin.command).join(' ');
    expect(script).toContain('temporal operator search-attribute create');
    expect(script).toContain('temporal operator namespace create');
    expect(env(admin).TEMPORAL_RETENTION).toMatch(/^\d+h$/);
    expect(script).toContain('--type "$$type"');
    expect(admin.restart).toBe('no');
  });
});

// Instructions by stage, continuation lines joined and comments dropped.
function dockerfileStages(text: string) {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { name: string; instructions: string[] }[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: (from[1] ?? '').toLowerCase(), instructions: [line] });
    else stages.at(-1)?.instructions.push(line.replace(/\s+/g, ' '));
  }
  return stages;
}

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const stages = dockerfileStages(text);
  const stage = (name: string) => stages.find((s) => s.name === name)?.instructions ?? [];

  it('has the stages deps, build and runtime, runtime last', () => {
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['deps', 'build', 'runtime']));
    expect(stages.at(-1)?.name).toBe('runtime');
  });

  it('builds on Node 24 LTS (bookworm-slim), the runtime the scripts use', () => {
    expect(text).toMatch(/node:24-bookworm-slim/);
  });

  it('installs from the lockfile, compiles and prebuilds the workflow bundle', () => {
    expect(stage('deps').some((i) => /^RUN .*npm ci\b/.test(i))).toBe(true);
    expect(stage('build').some((i) => /^RUN .*npm run build\b/.test(i))).toBe(true);
    expect(stage('build').some((i) => /node scripts\/bundle-workflows\.mjs dist\/workflow-bundle\.js/.test(i))).toBe(true);
  });

  it('runtime: production dependencies only, dist/ from the build stage, as user node', () => {
    const runtime = stage('runtime');
    expect(runtime.some((i) => /^RUN .*npm ci --omit=dev\b/.test(i))).toBe(true);
    expect(runtime.some((i) => /^COPY --from=build .*\/app\/dist/.test(i))).toBe(true);
    expect(runtime).toContain('USER node');
    const env = runtime.filter((i) => i.startsWith('ENV ')).join(' ');
    expect(env).toContain('NODE_ENV=production');
    expect(env).toContain('WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js');
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/api/server.js"]');
    // USER comes before CMD and nothing after it switches back to root.
    const user = runtime.lastIndexOf('USER node');
    expect(runtime.slice(user + 1).some((i) => /^USER /.test(i))).toBe(false);
  });

  it('has no HEALTHCHECK (docker-compose.yml declares them)', () => {
    expect(stages.flatMap((s) => s.instructions).some((i) => /^HEALTHCHECK\b/i.test(i))).toBe(false);
  });

  it('keeps node_modules, local state and VCS out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.git', 'test/artifacts']));
  });
});

describe('scripts/bundle-workflows.mjs', () => {
  it('writes the workflow bundle to the given path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-bundle-'));
    try {
      const out = join(dir, 'nested', 'workflow-bundle.js');
      execFileSync(process.execPath, [join(root, 'scripts/bundle-workflows.mjs'), out], { cwd: dir, stdio: 'pipe' });
      expect(statSync(out).size).toBeGreaterThan(10_000);
      const code = readFileSync(out, 'utf8');
      expect(code).toContain('__TEMPORAL__');
      expect(code).toContain('src/workflows/transfer/workflow.ts');
      expect(code).toContain('src/workflows/checkout/workflow.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses to run without an output path', () => {
    expect(() =>
      execFileSync(process.execPath, [join(root, 'scripts/bundle-workflows.mjs')], { stdio: 'pipe' }),
    ).toThrow(/usage/);
  });
});
