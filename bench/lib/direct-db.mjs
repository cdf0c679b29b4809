// The direct-db scenarios' runner: bench/direct-db.ts (the transfer's SQL without a coordinator) in a process of its
// own under tsx, which prints `window-start` / `window-end` around its measurement window (the meter follows them,
// that process included as `direct`) and its result as the last line.
import { spawn } from 'node:child_process';
import { onCleanup } from '../../scripts/lib/procs.mjs';
import { PREFIX } from './fixtures.mjs';
import { meter } from './proc.mjs';
import { round } from './stats.mjs';

/** The direct-db process's arguments for the shared settings (a scenario overrides concurrency, rate, duration). */
export const directArgs = (S) => ({ concurrency: S.concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, accounts: S.accounts, prefix: PREFIX, cross: S.cross });

function runProcess({ root, baseEnv, groups }, args) {
  let m;
  let usage;
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/direct-db.ts', JSON.stringify(args)], {
      cwd: root,
      env: { ...process.env, ...baseEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const kill = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    onCleanup(kill);
    let buf = '';
    let last;
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'window-start') m = meter({ ...groups(), direct: child.pid });
        else if (line === 'window-end') usage = m?.stop();
        else last = line;
      }
    });
    child.on('exit', (c) => (c === 0 ? resolveRun({ res: JSON.parse(last), usage }) : reject(new Error(`direct-db exited ${c}`))));
  });
}

export async function runDirectDb(ctx, name, args) {
  const { res, usage } = await runProcess(ctx, args);
  const meta = { deadlock_retries: res.deadlockRetries, errors: res.errors, cross_shard: round(res.crossShard, 3), ...(res.firstError ? { first_error: res.firstError } : {}) };
  return ctx.record(name, {
    tps: res.ok / res.windowS,
    lat: res,
    usage,
    appCpu: usage.direct.cpu_s,
    appRss: usage.direct.rss_mb,
    extra: { mode: 'direct', ops: res.ok, concurrency: args.concurrency, ...(args.rate ? { rate: args.rate, late: res.late } : {}), ...meta },
  });
}
