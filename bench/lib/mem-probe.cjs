// Diagnostic preload (`node --expose-gc --require bench/lib/mem-probe.cjs ...`, bench/run.mjs --mem-probe): every
// second, each thread of the process (main and worker threads: the Temporal workflow thread, tsx's loader thread)
// writes its V8 heap statistics to $MEM_PROBE_DIR/<pid>-<threadId>.json. When $MEM_PROBE_DIR/gc exists, each thread
// runs a full GC first, so the figures show live memory rather than garbage not yet collected.
const { existsSync, writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const v8 = require('node:v8');
const wt = require('node:worker_threads');
const { threadId, isMainThread } = wt;

const dir = process.env.MEM_PROBE_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const mb = (x) => Math.round((x / 2 ** 20) * 10) / 10;
  const timer = setInterval(() => {
    const gcAsked = existsSync(join(dir, 'gc'));
    if (gcAsked && typeof globalThis.gc === 'function') globalThis.gc();
    const h = v8.getHeapStatistics();
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: mb(s.space_size), used: mb(s.space_used_size) }]));
    writeFileSync(
      join(dir, `${process.pid}-${threadId}.json`),
      JSON.stringify({
        at: Date.now(),
        main: isMainThread,
        gc: gcAsked,
        rss: mb(m.rss),
        heapTotal: mb(h.total_heap_size),
        heapUsed: mb(h.used_heap_size),
        external: mb(h.external_memory),
        mallocedMemory: mb(h.malloced_memory),
        peakMalloced: mb(h.peak_malloced_memory),
        heapLimit: mb(h.heap_size_limit),
        contexts: h.number_of_native_contexts,
        arrayBuffers: mb(m.arrayBuffers),
        spaces,
      }),
    );
  }, 1000);
  timer.unref();

  // $MEM_PROBE_DIR/snap: the main thread writes a heap snapshot of every worker thread it started (once).
  if (isMainThread) {
    const workers = [];
    const Original = wt.Worker;
    wt.Worker = class extends Original {
      constructor(...args) {
        super(...args);
        workers.push(this);
      }
    };
    let snapped = false;
    const snapTimer = setInterval(async () => {
      if (snapped || !existsSync(join(dir, 'snap'))) return;
      snapped = true;
      for (const [i, w] of workers.entries()) {
        try {
          const stream = await w.getHeapSnapshot();
          const chunks = [];
          for await (const c of stream) chunks.push(c);
          writeFileSync(join(dir, `thread-${i}.heapsnapshot`), Buffer.concat(chunks));
        } catch {
          /* thread gone */
        }
      }
      writeFileSync(join(dir, 'snap-done'), '');
    }, 500);
    snapTimer.unref();
  }
}
