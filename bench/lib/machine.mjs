// The machine a bench ran on, and what else was running on it at the start (numbers are lower under shared load).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { round } from './stats.mjs';

function otherLoad() {
  const r = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => /chaos|vitest|scripts\/fuzz|scripts\/test\.mjs/.test(l) && !l.includes('bench/run.mjs'))
    .map((l) => l.trim());
}

export function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    ram_gb: round(os.totalmem() / 2 ** 30, 1),
    cpu_model: cpus[0]?.model ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadavg_at_start: os.loadavg().map((x) => round(x, 2)),
    concurrent_load: otherLoad(),
  };
}
