// Domains share nothing but contracts, checked rather than hoped for:
// - imports: a domain's code imports no other domain, no flow and no API code; the platform imports no business;
//   flows reach services through their sandbox-safe contracts (workflows) or read modules (routes) only;
// - SQL: every table a domain's statements name is a table its own migrations create, and no flow or API module
//   holds SQL of its own — so no statement, join or transaction can touch two services' databases.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { services } from '../../src/activities';

const src = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file, resolved to paths under src (type-only imports included: they couple code too). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => relative(src, resolve(dirname(file), s)));
}

const serviceNames = readdirSync(join(src, 'activities')).filter((d) => statSync(join(src, 'activities', d)).isDirectory());

describe('isolation between services', () => {
  it('when the domain folders are listed, then the registry serves exactly those services', () => {
    expect(services.map((d) => d.name).sort()).toEqual(serviceNames.sort());
    expect(serviceNames).toEqual(expect.arrayContaining(['ledger', 'inventory', 'orders', 'loyalty']));
  });

  it.each(serviceNames)('when %s code imports, then it reaches only itself and the platform', (name) => {
    const offending = files(join(src, 'activities', name)).flatMap((f) =>
      importsOf(f)
        .filter((target) => !target.startsWith(`activities/${name}/`) && !target.startsWith('platform/') && target !== 'config' && target !== 'events/catalog')
        .map((target) => `${relative(src, f)} → ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('when the event catalog imports, then only the platform (it is contract-only: what every domain may share)', () => {
    const offending = files(join(src, 'events')).flatMap((f) =>
      importsOf(f)
        .filter((t) => !t.startsWith('platform/'))
        .map((t) => `${relative(src, f)} → ${t}`),
    );
    expect(offending).toEqual([]);
    const text = files(join(src, 'events')).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect([...text.matchAll(/from\s+['"]([^.'"][^'"]*)['"]/g)].map((m) => m[1]).filter((p) => p !== 'zod')).toEqual([]);
  });

  it('when platform code imports, then it reaches no domain, flow or API module', () => {
    const offending = files(join(src, 'platform')).flatMap((f) =>
      importsOf(f)
        .filter((t) => /^(activities|workflows|api)\//.test(t))
        .map((t) => `${relative(src, f)} → ${t}`),
    );
    expect(offending).toEqual([]);
  });

  it('when flows import a domain, then only its contract (workflows) or its read module (routes)', () => {
    const offending = files(join(src, 'workflows')).flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith('activities/') && !/^activities\/[^/]+\/(contract|reads)$/.test(t))
        .map((t) => `${relative(src, f)} → ${t}`),
    );
    expect(offending).toEqual([]);
    const workflowFiles = files(join(src, 'workflows')).filter((f) => /workflow\.ts$|contract\.ts$/.test(f));
    const intoReads = workflowFiles.flatMap((f) => importsOf(f).filter((t) => /^activities\/[^/]+\/reads$/.test(t)));
    expect(intoReads).toEqual([]);
  });
});

/** Table names a piece of source names in SQL (FROM, JOIN, INTO, UPDATE, TABLE). */
function tablesNamed(text: string): string[] {
  const names = [...text.matchAll(/\b(?:FROM|JOIN|INTO|(?<!KEY )UPDATE|TABLE(?: IF (?:NOT )?EXISTS)?)\s+`?([a-z_][a-z0-9_]*)`?/g)].map((m) => m[1]);
  return [...new Set(names)].filter((n) => n !== 'dual');
}

async function ownTables(name: string): Promise<string[]> {
  const domain = services.find((d) => d.name === name)!;
  const tables: string[] = [];
  for (const m of domain.migrations) {
    const mod = await import(join(src, 'activities', name, 'migrations', m.name));
    tables.push(...(mod.tables as Array<[string, string]>).map(([t]) => t));
  }
  return tables;
}

describe('isolation of SQL', () => {
  it.each(serviceNames)('when %s code holds SQL, then every table it names is its own', async (name) => {
    const own = await ownTables(name);
    expect(own).toContain('barriers');
    const foreign = files(join(src, 'activities', name)).flatMap((f) => {
      const text = readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '');
      return tablesNamed(text)
        .filter((t) => !own.includes(t) && !['barriers'].includes(t))
        .map((t) => `${relative(src, f)}: ${t}`);
    });
    expect(foreign).toEqual([]);
  });

  it('when a table name is looked up, then exactly one domain owns it (the platform tables excepted: barriers, outbox, outbox_heads, inbox, one per database)', async () => {
    const owners = new Map<string, string[]>();
    for (const name of serviceNames) for (const t of await ownTables(name)) owners.set(t, [...(owners.get(t) ?? []), name]);
    const shared = [...owners].filter(([t, by]) => !['barriers', 'outbox', 'outbox_heads', 'inbox'].includes(t) && by.length > 1);
    expect(shared).toEqual([]);
  });

  it('when flow code is read, then it holds no SQL: it reaches data through domain activities and read modules', () => {
    const withSql = files(join(src, 'workflows')).filter((f) => /\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]{0,80}\b(FROM|INTO|SET|WHERE)\b/.test(readFileSync(f, 'utf8')));
    expect(withSql.map((f) => relative(src, f))).toEqual([]);
  });
});
