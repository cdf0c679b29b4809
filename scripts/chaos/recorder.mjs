// What a chaos run observed: every HTTP status (by route, split by whether a fault was in progress), the faults with
// their timings, notable events, and the violations. Everything here ends up in chaos-report.json.
import { log } from '../lib/log.mjs';

const PRINT_PER_KIND = 8; // the report keeps every violation; the console shows the first few of each kind

export class Recorder {
  constructor() {
    this.t0 = Date.now();
    this.violations = [];
    this.events = [];
    this.faults = [];
    this.active = new Set();
    this.http = { total: 0, byStatus: {}, byRoute: {}, duringFaults: {} };
    this.printed = {};
  }

  /** Seconds since the run started, one decimal. */
  rel(at = Date.now()) {
    return Math.round((at - this.t0) / 100) / 10;
  }

  violation(kind, detail = {}) {
    const { kind: flowKind, ...rest } = detail; // a flow's kind must not overwrite the violation's
    this.violations.push({ kind, at: this.rel(), faults: [...this.active], ...(flowKind ? { flowKind } : {}), ...rest });
    this.printed[kind] = (this.printed[kind] ?? 0) + 1;
    if (this.printed[kind] <= PRINT_PER_KIND) log.warn(`VIOLATION ${kind}: ${JSON.stringify(detail).slice(0, 400)}`);
    else if (this.printed[kind] === PRINT_PER_KIND + 1) log.warn(`VIOLATION ${kind}: more of this kind, see the report`);
  }

  event(kind, detail = {}) {
    this.events.push({ kind, at: this.rel(), ...detail });
    log.info(`${kind}${Object.keys(detail).length ? ` ${JSON.stringify(detail)}` : ''}`);
  }

  faultStarted(type, detail = {}) {
    const f = { type, ...detail, startedAt: Date.now(), endedAt: null };
    this.faults.push(f);
    this.active.add(type);
    log.info(`fault: ${type} ${JSON.stringify(detail)} (t=${this.rel()} s)`);
    return f;
  }

  faultEnded(f, extra = {}) {
    Object.assign(f, extra, { endedAt: Date.now() });
    this.active.delete(f.type);
    log.info(`fault: ${f.type} recovered after ${((f.endedAt - f.startedAt) / 1000).toFixed(1)} s`);
  }

  get faultActive() {
    return this.active.size > 0;
  }

  count(type) {
    return this.faults.filter((f) => f.type === type && f.endedAt).length;
  }

  lastFaultEnd() {
    return Math.max(0, ...this.faults.map((f) => f.endedAt ?? 0));
  }

  httpStatus(route, status) {
    const s = String(status);
    const bump = (o, k) => (o[k] = (o[k] ?? 0) + 1);
    this.http.total++;
    bump(this.http.byStatus, s);
    bump((this.http.byRoute[route] ??= {}), s);
    if (this.faultActive) bump(this.http.duringFaults, s);
  }

  toJSON() {
    return {
      faults: this.faults.map((f) => ({
        ...f,
        startedAt: this.rel(f.startedAt),
        endedAt: f.endedAt ? this.rel(f.endedAt) : null,
        seconds: f.endedAt ? Math.round((f.endedAt - f.startedAt) / 100) / 10 : null,
      })),
      http: this.http,
      events: this.events,
      violations: this.violations,
    };
  }
}
