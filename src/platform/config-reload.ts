// Hot reload of the live settings (config.ts LIVE_SETTINGS) in a running process: SIGHUP, or a change to CONFIG_FILE,
// re-reads the settings, validates them with the same schema and swaps in a new snapshot only when every change may
// happen live; otherwise the refusal (validation errors, or the settings that need a restart) is logged and the old
// snapshot stays. A snapshot is immutable (deep-frozen Config): a reader takes one per request or per use and never
// sees half of a reload. Values are never logged or shown, only the names of the settings that changed.
import { unwatchFile, watchFile } from 'node:fs';
import { isSecretSetting, LIVE_SETTINGS, planReload, type Config, type SettingName, type Settings } from '../config';
import { setLogLevel, type Logger } from './logger';

export interface ConfigSnapshot {
  /** 1 at start, +1 for every reload applied. */
  version: number;
  config: Config;
  settings: Settings;
  loadedAt: string;
}

export interface ReloadRecord {
  at: string;
  trigger: string;
  outcome: 'applied' | 'refused' | 'unchanged';
  /** The version active after this attempt. */
  version: number;
  changed: SettingName[];
  reason?: string;
}

export interface LiveConfig {
  current(): ConfigSnapshot;
  /** Re-reads and applies (or refuses) at once; returns what happened. */
  reload(trigger: string): ReloadRecord;
  /** The last reload attempts, newest last (at most 20). */
  history(): readonly ReloadRecord[];
  /** Called with every snapshot applied from now on. */
  onChange(fn: (s: ConfigSnapshot) => void): void;
  /** Reloads on SIGHUP and, when CONFIG_FILE is set, when that file changes; returns a stop function. */
  watch(): () => void;
}

/** A value given as is, or as a function read at each use (a live setting). */
export type Live<T> = T | (() => T);
export const valueOf = <T>(v: Live<T>): T => (typeof v === 'function' ? (v as () => T)() : v);

export interface LiveConfigOptions {
  /** The environment to validate at each reload (config.ts settingsEnv: process.env with CONFIG_FILE over it). */
  readEnv: () => Record<string, string | undefined>;
  log: Logger;
  /** A process's own rule on a whole configuration (the API's assertApiConfig): throwing refuses the reload. */
  check?: (config: Config) => void;
  /** How often CONFIG_FILE's modification time is checked (ms). */
  pollMs?: number;
}

export function createLiveConfig(settings: Settings, config: Config, o: LiveConfigOptions): LiveConfig {
  let snapshot: ConfigSnapshot = { version: 1, config, settings, loadedAt: new Date().toISOString() };
  const records: ReloadRecord[] = [];
  const listeners: Array<(s: ConfigSnapshot) => void> = [];
  const remember = (r: ReloadRecord) => {
    records.push(r);
    if (records.length > 20) records.shift();
    return r;
  };

  const reload = (trigger: string): ReloadRecord => {
    const at = new Date().toISOString();
    let plan: ReturnType<typeof planReload>;
    try {
      plan = planReload(snapshot.settings, o.readEnv());
      if (plan.ok) o.check?.(plan.config);
    } catch (err) {
      plan = { ok: false, reason: (err as Error).message, fixed: [] };
    }
    if (!plan.ok) {
      o.log.error({ trigger, version: snapshot.version, reason: plan.reason, fixed: plan.fixed }, 'configuration reload refused; the old configuration stays');
      return remember({ at, trigger, outcome: 'refused', version: snapshot.version, changed: plan.fixed, reason: plan.reason });
    }
    if (!plan.changed.length) {
      o.log.info({ trigger, version: snapshot.version }, 'configuration reload: nothing changed');
      return remember({ at, trigger, outcome: 'unchanged', version: snapshot.version, changed: [] });
    }
    snapshot = { version: snapshot.version + 1, config: plan.config, settings: plan.settings, loadedAt: at };
    setLogLevel(snapshot.config.logLevel);
    for (const fn of listeners) fn(snapshot);
    o.log.info({ trigger, version: snapshot.version, changed: plan.changed }, 'configuration reloaded');
    return remember({ at, trigger, outcome: 'applied', version: snapshot.version, changed: plan.changed });
  };

  return {
    current: () => snapshot,
    reload,
    history: () => records,
    onChange: (fn) => void listeners.push(fn),
    watch() {
      const onHup = () => void reload('SIGHUP');
      process.on('SIGHUP', onHup);
      const file = snapshot.config.configFile;
      // Polling the file's stat survives editors that replace the file (a rename), which fs.watch loses track of.
      const onFile = (now: { mtimeMs: number }, before: { mtimeMs: number }) => now.mtimeMs !== before.mtimeMs && reload('CONFIG_FILE changed');
      if (file) watchFile(file, { interval: o.pollMs ?? 500, persistent: false }, onFile);
      return () => {
        process.off('SIGHUP', onHup);
        if (file) unwatchFile(file, onFile);
      };
    },
  };
}

/**
 * What GET /v1/ops/config shows: the active version, when it was loaded, the live settings (a secret one by how many
 * values it holds, never the values), the settings that need a restart (names only) and the recent reload attempts.
 */
export function describeConfig(live: LiveConfig) {
  const { version, loadedAt, settings } = live.current();
  const shown = Object.fromEntries(
    LIVE_SETTINGS.map((k) => {
      const v = settings[k];
      return [k, isSecretSetting(k) ? { secret: true, count: Array.isArray(v) ? v.length : v === undefined ? 0 : 1 } : v];
    }),
  );
  return { version, loadedAt, live: shown, restartOnly: (Object.keys(settings) as SettingName[]).filter((k) => !LIVE_SETTINGS.includes(k)), reloads: live.history() };
}
