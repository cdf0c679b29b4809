// The DTM-protocol load of a chaos run with --dtm: a client speaking DTM's HTTP protocol to the API's /api/dtmsvr
// (newGid, prepare, submit, abort, registerBranch, query), and the participant it drives (./dtm-bank.ts: banks `a` on
// server A and `b` on server B, DTM's barrier, a movement journal). Beside the flows load it runs, until stopped:
// - sagas: sequential (steps in a random order, so a failing transfer-out may come after transfers-in) or concurrent
//   (all at once, or every transfer-in after the transfer-out); ~25% from an empty account → 409 → compensated;
// - TCC: prepare, then per branch registerBranch and the try (called by the client itself), then submit — or abort
//   when a try fails (an empty account, or a transient answer of the participant); a few never submitted nor aborted
//   (timeout_to_fail cancels them);
// - 2-phase messages: prepare → the local transaction in the source bank → submit (abort when it rolled back); some
//   whose local transaction rolls back and that are never submitted (the back-check fails them), some whose submit is
//   "lost" after the local transaction committed (the back-check finds it and the message is delivered).
// - XA: prepare, each branch's phase 1 (the participant's XA transaction, prepared, registers itself), submit or abort.
// Short timeout_to_fail / retry_interval, so timeouts and back-checks happen within the run. Every gid is recorded
// with what it should move if it succeeds (`legs`), and polled to its end; the audit (invariants/dtm-*.mjs) judges.
/* global AbortSignal, URLSearchParams */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withDatabase } from '../lib/layout.mjs';
import { freePort, start, waitFor } from '../lib/procs.mjs';

const RICH = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
const POOR = ['p1', 'p2'];
/** XA's own accounts: a prepared branch holds its row lock until phase 2, so XA stays off the others' hot rows. */
const XA_ACCOUNTS = ['x1', 'x2', 'x3'];
const RICH_BALANCE = 1_000_000_000;
const BANKS = ['a', 'b'];
const TIMING = { retry_interval: 1, request_timeout: 3 };
const TERMINAL = ['succeed', 'failed'];
/** Answers after which a client sends the same call again: no answer (API down), the platform unavailable. */
const RETRY = new Set([0, 429, 500, 502, 503, 504]);

const pick = (a) => a[Math.floor(Math.random() * a.length)];
const int = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const chance = (p) => Math.random() < p;
const shuffle = (a) => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

/**
 * Starts the participant (its databases created and seeded on the chaos servers) on a free port; a participant that
 * exits is a violation (the stack watches it). Returns its URL, its databases and the money it holds.
 */
export async function startDtmBank({ root, stack, transientRate = 0.03 }) {
  const port = await freePort();
  const banks = Object.fromEntries(BANKS.map((name) => [name, stack.servers.find((s) => s.name === name).url]));
  const accounts = [...[...RICH, ...XA_ACCOUNTS].map((id) => ({ id, balance: RICH_BALANCE })), ...POOR.map((id) => ({ id, balance: 0 }))];
  const logFile = join(stack.logDir, 'dtm-bank.log');
  const entry = start('dtm-bank', process.execPath, ['--import', 'tsx', 'scripts/chaos/dtm-bank.ts', JSON.stringify({ port, banks, accounts, transientRate, coordinator: `${stack.base}/api/dtmsvr` })], { cwd: root, logFile, env: { NODE_ENV: 'development' } });
  entry.logFile = logFile;
  stack.watch(entry, 'dtm-bank');
  const url = `http://127.0.0.1:${port}`;
  await waitFor('dtm-bank /ready', async () => (await fetch(`${url}/ready`)).ok, { entry, timeoutMs: 60_000 });
  return {
    url,
    entry,
    urls: { banks: Object.fromEntries(BANKS.map((b) => [b, withDatabase(banks[b], `sagaflow_chaos_bank_${b}`)])), store: stack.databaseEnv.DTM_DATABASE_URL },
    initialTotal: BANKS.length * accounts.reduce((s, a) => s + a.balance, 0),
  };
}

/** DTM's HTTP protocol from Node; every call is repeated while the answer says "try again" (as DTM's clients are). */
export class DtmClient {
  constructor(base, rec) {
    this.base = `${base}/api/dtmsvr`;
    this.rec = rec;
    this.stats = { calls: 0, retries: 0, byStatus: {} };
  }

  async once(method, path, body) {
    const init = { method, signal: AbortSignal.timeout(30_000), ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) };
    let status = 0;
    let json = null;
    try {
      const res = await fetch(`${this.base}/${path}`, init);
      status = res.status;
      json = await res.json().catch(() => null);
    } catch {
      /* no answer: status 0 */
    }
    const route = `DTM ${path.split('?')[0]}`;
    this.rec.httpStatus(route, status || 'network');
    this.stats.byStatus[`${route} ${status}`] = (this.stats.byStatus[`${route} ${status}`] ?? 0) + 1;
    return { status, json };
  }

  async call(method, path, body, { deadlineMs = 180_000 } = {}) {
    const deadline = Date.now() + deadlineMs;
    let wait = 200;
    for (;;) {
      this.stats.calls++;
      const r = await this.once(method, path, body);
      if (!RETRY.has(r.status) || Date.now() > deadline) return r;
      this.stats.retries++;
      await sleep(wait);
      wait = Math.min(wait * 2, 2_000);
    }
  }

  post(path, body) {
    return this.call('POST', path, body);
  }

  async newGid() {
    const r = await this.call('GET', 'newGid');
    if (r.status !== 200 || !r.json?.gid) throw new Error(`newGid answered ${r.status}`);
    return r.json.gid;
  }

  async status(gid) {
    const r = await this.call('GET', `query?gid=${encodeURIComponent(gid)}`, undefined, { deadlineMs: 30_000 });
    return r.status === 200 ? (r.json?.transaction?.status ?? 'unknown') : null;
  }
}

export class DtmLoad {
  constructor({ base, bank, rec, concurrency = 4 }) {
    this.client = new DtmClient(base, rec);
    this.bank = bank;
    this.rec = rec;
    this.concurrency = concurrency;
    this.gids = new Map(); // gid → { gid, type, variant, expect, legs, status, answers }
    this.stopping = false;
  }

  /** A rich account (never short of money), or an empty one (every debit from it fails); `not` excluded. */
  account({ poor = false, not, xa = false } = {}) {
    for (;;) {
      const a = { bank: pick(BANKS), account: pick(poor ? POOR : xa ? XA_ACCOUNTS : RICH) };
      if (!not || a.bank !== not.bank || a.account !== not.account) return a;
    }
  }

  url(bank, route) {
    return `${this.bank.url}/${bank}/${route}`;
  }

  async track(type, variant, expect, legs) {
    const gid = `chaos-${type}-${await this.client.newGid()}`;
    const t = { gid, type, variant, expect, legs, status: null, answers: {} };
    this.gids.set(gid, t);
    return t;
  }

  async run() {
    const loops = Array.from({ length: this.concurrency }, async () => {
      while (!this.stopping) {
        const r = Math.random();
        await (r < 0.35 ? this.saga() : r < 0.6 ? this.tcc() : r < 0.85 ? this.msg() : this.xa()).catch((err) => this.rec.violation('dtm-load-error', { error: String(err?.stack ?? err).slice(0, 400) }));
      }
    });
    await Promise.all(loops);
  }

  stop() {
    this.stopping = true;
  }

  async saga() {
    const fail = chance(0.25);
    const concurrent = chance(0.5);
    const amount = int(2, 1000);
    const src = this.account({ poor: fail });
    const d1 = this.account({ not: src });
    const split = chance(0.5) ? int(1, amount - 1) : amount;
    const legs = [{ ...src, delta: -amount }, { ...d1, delta: split }];
    if (split < amount) legs.push({ ...this.account({ not: src }), delta: amount - split });
    const order = concurrent ? legs : shuffle([...legs]);
    const orders = concurrent && chance(0.5) ? Object.fromEntries(order.map((_, i) => [String(i), i === 0 ? [] : [0]])) : undefined;
    const t = await this.track('saga', concurrent ? (orders ? 'concurrent-ordered' : 'concurrent') : 'sequential', fail ? 'failed' : 'succeed', legs);
    const side = (l) => (l.delta < 0 ? 'out' : 'in');
    const body = {
      gid: t.gid,
      trans_type: 'saga',
      steps: order.map((l) => ({ action: this.url(l.bank, `saga/${side(l)}`), compensate: this.url(l.bank, `saga/${side(l)}-compensate`) })),
      payloads: order.map((l) => JSON.stringify({ account: l.account, amount: Math.abs(l.delta) })),
      ...TIMING,
      ...(concurrent ? { custom_data: JSON.stringify({ concurrent: true, ...(orders ? { orders } : {}) }) } : {}),
    };
    t.answers.submit = (await this.client.post('submit', body)).status;
    await this.awaitEnd(t);
  }

  /** The client's own call of a TCC try (DTM's clients call it, then the coordinator confirms or cancels). */
  async tryBranch(t, branchId, leg) {
    const payload = JSON.stringify({ account: leg.account, amount: Math.abs(leg.delta) });
    const target = this.url(leg.bank, `tcc/${leg.delta < 0 ? 'out' : 'in'}`);
    const reg = await this.client.post('registerBranch', { gid: t.gid, trans_type: 'tcc', branch_id: branchId, data: payload, confirm: target, cancel: target });
    if (reg.status !== 200) return `register ${reg.status}`;
    try {
      const q = new URLSearchParams({ gid: t.gid, trans_type: 'tcc', branch_id: branchId, op: 'try' });
      const res = await fetch(`${target}?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload, signal: AbortSignal.timeout(10_000) });
      await res.text();
      return res.status === 200 ? null : `try ${res.status}`;
    } catch {
      return 'try lost';
    }
  }

  async tcc() {
    const fail = chance(0.2);
    const forgotten = !fail && chance(0.08);
    const amount = int(1, 1000);
    const src = this.account({ poor: fail });
    const legs = [{ ...src, delta: -amount }, { ...this.account({ not: src }), delta: amount }];
    // Without a business failure the outcome depends on the faults (a transient answer of a try aborts it).
    const t = await this.track('tcc', forgotten ? 'never-submitted' : fail ? 'try-fails' : 'submit', fail || forgotten ? 'failed' : undefined, legs);
    const prepared = await this.client.post('prepare', { gid: t.gid, trans_type: 'tcc', ...TIMING, timeout_to_fail: 10 });
    t.answers.prepare = prepared.status;
    let problem = prepared.status === 200 ? null : `prepare ${prepared.status}`;
    for (let i = 0; i < legs.length && !problem; i++) problem = await this.tryBranch(t, String(i + 1).padStart(2, '0'), legs[i]);
    if (problem) t.answers.problem = problem;
    if (!forgotten) t.answers[problem ? 'abort' : 'submit'] = (await this.client.post(problem ? 'abort' : 'submit', { gid: t.gid, trans_type: 'tcc' })).status;
    await this.awaitEnd(t);
  }

  async msg() {
    const r = Math.random();
    const variant = r < 0.5 ? 'submit' : r < 0.75 ? 'rolled-back-never-submitted' : 'submit-lost';
    const poor = variant === 'submit' && chance(0.15);
    const amount = int(1, 1000);
    const src = this.account({ poor });
    const dst = this.account({ not: src });
    const t = await this.track('msg', variant, variant === 'rolled-back-never-submitted' || poor ? 'failed' : 'succeed', [{ ...src, delta: -amount }, { ...dst, delta: amount }]);
    const body = {
      gid: t.gid,
      trans_type: 'msg',
      steps: [{ action: this.url(dst.bank, 'msg/in') }],
      payloads: [JSON.stringify({ account: dst.account, amount })],
      query_prepared: this.url(src.bank, 'msg/query-prepared'),
      ...TIMING,
      timeout_to_fail: 4,
    };
    t.answers.prepare = (await this.client.post('prepare', body)).status;
    const committed = await this.local(src, t.gid, amount, variant !== 'rolled-back-never-submitted');
    t.answers.local = committed;
    // The local transaction decides, whatever the prepare answered: committed → delivered; refused or rolled back → failed.
    // (A prepare answered only after timeout_to_fail finds the message already failed by its back-check, whose barrier
    // row then refuses the local transaction: a DTM client would not even try it, this one does, to see it refused.)
    t.expect = committed === null ? undefined : committed ? 'succeed' : 'failed';
    // Unknown (no answer from the local transaction): neither submit nor abort — the back-check decides.
    if (variant === 'submit' && committed !== null) t.answers[committed ? 'submit' : 'abort'] = (await this.client.post(committed ? 'submit' : 'abort', body)).status;
    await this.awaitEnd(t);
  }

  /**
   * XA: prepare, then each branch's phase 1 called by the client (the participant prepares it in MariaDB and registers
   * it), in one global order of accounts (prepared branches hold row locks: no two transactions wait on each other);
   * submit, or abort when a branch failed (an empty account, a transient answer).
   */
  async xa() {
    const fail = chance(0.2);
    const amount = int(1, 1000);
    const src = this.account({ poor: fail, xa: true });
    const legs = [{ ...src, delta: -amount }, { ...this.account({ not: src, xa: true }), delta: amount }];
    const t = await this.track('xa', fail ? 'branch-fails' : 'submit', fail ? 'failed' : undefined, legs);
    const prepared = await this.client.post('prepare', { gid: t.gid, trans_type: 'xa', ...TIMING, timeout_to_fail: 10 });
    let problem = prepared.status === 200 ? null : `prepare ${prepared.status}`;
    const ordered = [...legs].sort((x, y) => `${x.bank}|${x.account}`.localeCompare(`${y.bank}|${y.account}`));
    for (let i = 0; i < ordered.length && !problem; i++) {
      const q = new URLSearchParams({ gid: t.gid, trans_type: 'xa', branch_id: String(i + 1).padStart(2, '0'), op: 'action' });
      const status = await fetch(`${this.url(ordered[i].bank, 'xa')}?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: ordered[i].account, delta: ordered[i].delta }), signal: AbortSignal.timeout(90_000) }).then(
        async (r) => (await r.text(), r.status),
        () => 0,
      );
      if (status !== 200) problem = `phase 1 ${status}`;
    }
    if (problem) t.answers.problem = problem;
    t.answers[problem ? 'abort' : 'submit'] = (await this.client.post(problem ? 'abort' : 'submit', { gid: t.gid, trans_type: 'xa' })).status;
    await this.awaitEnd(t);
  }

  /** The message's local transaction in the source bank: true committed, false rolled back, null unknown. */
  async local(src, gid, amount, commit) {
    try {
      const res = await fetch(this.url(src.bank, 'msg/local'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gid, account: src.account, amount, commit }), signal: AbortSignal.timeout(15_000) });
      await res.text();
      return res.status === 200 ? true : res.status === 409 ? false : null;
    } catch {
      return null;
    }
  }

  /** Polls the gid until it is terminal (or a minute passed: the final quiescence polls again). */
  async awaitEnd(t, ms = 60_000) {
    const until = Date.now() + ms;
    while (!this.stopping && Date.now() < until) {
      t.status = (await this.client.status(t.gid)) ?? t.status;
      if (TERMINAL.includes(t.status)) return;
      await sleep(1_000);
    }
  }

  /** Polls every gid not terminal yet until all are, or `deadline`; returns when that happened (or null). */
  async quiesce(deadline) {
    for (;;) {
      const pending = [...this.gids.values()].filter((t) => !TERMINAL.includes(t.status));
      if (!pending.length) return Date.now();
      if (Date.now() > deadline) return null;
      for (let i = 0; i < pending.length; i += 8) {
        await Promise.all(pending.slice(i, i + 8).map(async (t) => (t.status = (await this.client.status(t.gid)) ?? t.status)));
      }
      if (pending.some((t) => !TERMINAL.includes(t.status))) await sleep(1_000);
    }
  }

  /** Gids per type, per type/variant and final status; the protocol calls by answer; the participant's injections. */
  async summary() {
    const byType = {};
    const outcomes = {};
    for (const t of this.gids.values()) {
      byType[t.type] = (byType[t.type] ?? 0) + 1;
      const k = `${t.type}/${t.variant}:${t.status}`;
      outcomes[k] = (outcomes[k] ?? 0) + 1;
    }
    const tccProblems = {};
    for (const t of this.gids.values()) if (t.answers.problem) tccProblems[`${t.type} ${t.answers.problem}`] = (tccProblems[`${t.type} ${t.answers.problem}`] ?? 0) + 1;
    const participant = await fetch(`${this.bank.url}/stats`).then((r) => r.json(), () => null);
    return { gids: this.gids.size, byType, outcomes: Object.fromEntries(Object.entries(outcomes).sort()), tccProblems, client: this.client.stats, participant };
  }

  /** What the audit needs: every gid with its intent and final status, the participant's databases and money. */
  auditInput() {
    return { gids: this.gids, urls: this.bank.urls, initialTotal: this.bank.initialTotal };
  }
}
