// A background loop (the outbox relay, the webhook dispatcher): runs `pass` again at once while it reports more work,
// waits `pollMs` when idle, backs off (doubling, capped at 5 s) on errors, and stops promptly — a stop wakes the wait
// and resolves once the pass in progress has finished.


export interface Loop {
  stop(): Promise<void>;
}

export function startLoop(pass: () => Promise<'more' | 'idle'>, o: { pollMs: number; onError: (err: unknown, consecutive: number) => void }): Loop {
  let stopped = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((r) => {
      const timer = setTimeout(r, ms);
      wake = () => (clearTimeout(timer), r());
    });
  const loop = (async () => {
    let errors = 0;
    while (!stopped) {
      try {
        const next = await pass();
        errors = 0;
        if (next === 'idle') await pause(o.pollMs);
      } catch (err) {
        errors++;
        o.onError(err, errors);
        await pause(Math.min(Math.max(o.pollMs, 50) * 2 ** Math.min(errors, 6), 5_000));
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

