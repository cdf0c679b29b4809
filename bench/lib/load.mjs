// Load shapes. closedLoop: `concurrency` callers, each sending its next request when the last one ended (measures the
// sustained maximum). openLoop: requests at a fixed arrival rate whatever the responses do (latency at a given load,
// measured from the scheduled send time so a stall is not hidden: no coordinated omission).
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A keep-alive JSON client for the API. A request sent on a reused idle socket that the server closed at the same
 * moment (its keep-alive timeout) fails with ECONNRESET before any answer: it is sent again once on a fresh socket,
 * as Node's documentation advises (every flow-starting POST of the bench carries an Idempotency-Key, so this is safe).
 */
export function httpClient(base, { maxSockets = 256, headers: common = {} } = {}) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  async function request(method, path, body, headers = {}) {
    try {
      return await send(method, path, body, headers);
    } catch (err) {
      if (!err.reusedSocket || err.code !== 'ECONNRESET') throw err;
      return send(method, path, body, headers);
    }
  }
  function send(method, path, body, headers) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          agent,
          headers: {
            ...common,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode, body: json, text });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
      if (payload) req.write(payload);
      req.end();
    });
  }
  return { request, post: (p, b, h) => request('POST', p, b, h), get: (p, h) => request('GET', p, undefined, h), close: () => agent.destroy() };
}

/**
 * Runs `op()` from `concurrency` callers for warmupMs + durationMs. op resolves to true (success) or false (counted as
 * an error); a throw is an error too. Only operations that END inside the measurement window count, so the warm-up and
 * the drain at the end are excluded. Returns { ok, errors, windowS, latencies (ms) }.
 */
export async function closedLoop({ concurrency, warmupMs, durationMs, op }) {
  const t0 = performance.now();
  const winStart = t0 + warmupMs;
  const winEnd = winStart + durationMs;
  const latencies = [];
  let ok = 0;
  let errors = 0;
  let firstError;
  const caller = async (i) => {
    while (performance.now() < winEnd) {
      const s = performance.now();
      let good = false;
      try {
        good = await op(i);
      } catch (err) {
        firstError ??= err;
      }
      const e = performance.now();
      if (e >= winStart && e <= winEnd) {
        if (good) {
          ok++;
          latencies.push(e - s);
        } else errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  return { ok, errors, firstError, windowS: durationMs / 1000, latencies };
}

/** Sends op() at `rate` per second for warmupMs + durationMs; waits for every request sent to end. */
export async function openLoop({ rate, warmupMs, durationMs, op, maxInFlight = 2000 }) {
  const t0 = performance.now();
  const winStart = t0 + warmupMs;
  const winEnd = winStart + durationMs;
  const interval = 1000 / rate;
  const latencies = [];
  const pending = new Set();
  let ok = 0;
  let errors = 0;
  let dropped = 0;
  let firstError;
  let late = 0;
  for (let i = 0; ; i++) {
    const scheduled = t0 + i * interval;
    if (scheduled >= winEnd) break;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    else if (wait < -interval) late++;
    if (pending.size >= maxInFlight) {
      dropped++;
      continue;
    }
    const p = (async () => {
      let good = false;
      try {
        good = await op(i);
      } catch (err) {
        firstError ??= err;
      }
      const e = performance.now();
      if (scheduled >= winStart) {
        if (good) {
          ok++;
          latencies.push(e - scheduled);
        } else errors++;
      }
    })();
    pending.add(p);
    p.finally(() => pending.delete(p));
  }
  await Promise.all(pending);
  return { ok, errors, dropped, late, firstError, windowS: durationMs / 1000, latencies };
}
