// DTM's Python client for the tests: a venv with dtmcli==1.7.7.0 from PyPI, made once per machine under
// ~/.cache/sagaflow (SAGAFLOW_DTMCLI_VENV names another place), so a fresh CI machine makes it on its first run; and
// a runner for test/dtm/clients/dtmcli-scenarios.py with a watchdog (the client sets no timeouts of its own).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DTMCLI_VERSION = '1.7.7.0';

/** The venv's python, creating the venv when missing (atomically: built aside, then renamed into place). */
export async function ensureDtmcli(): Promise<string> {
  const dir = process.env.SAGAFLOW_DTMCLI_VENV ?? join(homedir(), '.cache', 'sagaflow', `dtmcli-${DTMCLI_VERSION}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(python)) return python;
  mkdirSync(join(dir, '..'), { recursive: true });
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', building], { timeout: 120_000 });
  await run(join(building, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `dtmcli==${DTMCLI_VERSION}`], { timeout: 300_000 });
  if (!existsSync(python)) renameSync(building, dir);
  else rmSync(building, { recursive: true, force: true });
  return python;
}

export interface ClientOutcome {
  ok: boolean;
  failure?: boolean;
  error?: string;
  result?: unknown;
}

/** Runs one scenario; the watchdog kills the client if it hangs. */
export async function runClient(python: string, args: Record<string, unknown>, watchdogMs = 60_000): Promise<ClientOutcome> {
  const script = join(__dirname, 'clients', 'dtmcli-scenarios.py');
  const { stdout } = await run(python, [script, JSON.stringify(args)], { timeout: watchdogMs, killSignal: 'SIGKILL' });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as ClientOutcome;
}
