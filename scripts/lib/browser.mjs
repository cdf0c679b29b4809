// Debian's Chromium for the Web UI browser test. Installed with apt when missing and we are root; otherwise the
// browser test is skipped with a notice (it never downloads a browser of its own).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { log } from './log.mjs';

export function ensureChromium(path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') {
  if (existsSync(path)) return path;
  if (process.getuid?.() !== 0) {
    log.warn(`no Chromium at ${path}: the Web UI browser test will be skipped (Debian: apt-get install chromium)`);
    return null;
  }
  log.info('installing Debian chromium for the Web UI browser test (first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'ignore', env });
  if (r.status !== 0 || !existsSync(path)) {
    log.warn('apt-get install chromium failed: the Web UI browser test will be skipped');
    return null;
  }
  return path;
}
