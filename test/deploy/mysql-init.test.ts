// The compose stack's MySQL 8 init script (deploy/mysql-init), checked without a Docker engine: it is mounted into both
// domain servers, and it grants the application's account what XA needs there — XA_RECOVER_ADMIN, without which
// MySQL 8 refuses the recovery job's XA RECOVER (MariaDB, which the tests run, has no such privilege to check).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const initSql = readFileSync(join(root, 'deploy/mysql-init/01-sagaflow.sql'), 'utf8');
const statements = initSql
  .split('\n')
  .filter((l) => !l.trim().startsWith('--'))
  .join('\n')
  .split(';')
  .map((s) => s.replace(/\s+/g, ' ').trim())
  .filter(Boolean);
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; volumes?: string[] }>;
};

describe('deploy/mysql-init on MySQL 8', () => {
  it('when the init script runs, then the sagaflow account may run XA RECOVER (XA_RECOVER_ADMIN, granted globally)', () => {
    expect(statements).toContain("GRANT XA_RECOVER_ADMIN ON *.* TO 'sagaflow'@'%'");
    // …and nothing broader on *.* than that one dynamic privilege.
    const global = statements.filter((s) => /^GRANT .* ON \*\.\* /i.test(s));
    expect(global).toEqual(["GRANT XA_RECOVER_ADMIN ON *.* TO 'sagaflow'@'%'"]);
  });

  it('when compose starts the domain servers, then both are MySQL 8 and both run the init script', () => {
    const servers = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('mysql:'));
    expect(servers.map(([name]) => name).sort()).toEqual(['mysql-a', 'mysql-b']);
    for (const [, s] of servers) {
      expect(s.image).toMatch(/^mysql:8\./);
      expect(s.volumes).toContain('./deploy/mysql-init:/docker-entrypoint-initdb.d:ro');
    }
  });
});
