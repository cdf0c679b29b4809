// The bench's scenarios, in the order they run (see ../run.mjs).
//
// Adding one is one new file here plus one line (its file name) in FILES below. A module's default export is
//   { name, description, run(ctx, level?), options?, settings?(opt, quick), perLevel?, onlyWhenNamed?, aliases?,
//     markdown?(result), memo?, audit?(ctx, transfers) }
// - `run(ctx)` measures and calls `ctx.record(name, { tps, lat, usage, extra })` once per row of the results (wrap the
//   load in `ctx.measured(hooks => …)` so the process meter covers the window only); anything else it returns (the
//   modes table, inflight's RSS) lands in the results JSON under its name (not for perLevel ones). `ctx` is the running stack (../lib/stack.mjs: http / httpBatched
//   clients, Temporal client, SQL connections, accounts, transferBody, shard rule) plus S (settings), opt (the parsed
//   command line), expected (what the audit must find: add what your flows leave), measured, record.
// - `options`: parseArgs options of its own (each with a one-line `help`), parsed with the shared ones; `settings`
//   turns them into entries of S (kept in the results' settings).
// - `perLevel`: run(ctx, level) once per --levels entry, interleaved with the other per-level scenarios;
//   `onlyWhenNamed`: not in the default selection; `aliases`: old names accepted by --scenarios;
//   `markdown(result)`: lines of its own section in latest.md; `memo` + `audit(ctx, transfers)`: its transfers carry
//   this memo prefix, the shared audit (../lib/audit.mjs) leaves them out and runs `audit` over them (a Map id → row,
//   whether or not it ran) for a list of problems; `audit(ctx)` without a memo: the problems a scenario whose flows
//   are not in the bench's databases found itself (dev: its own `npm run dev`; it also leaves `expected` alone).
//   Anything else a scenario leaves the shared audit checks as usual.
const FILES = [
  'direct-db',
  'saga',
  'batched',
  'dev',
  'sync',
  'sync-batched',
  'direct-db-paced',
  'checkout',
  'modes',
  'dtm-saga',
  'start',
  'inflight',
];

export const scenarios = await Promise.all(
  FILES.map(async (file) => {
    const s = (await import(`./${file}.mjs`)).default;
    if (typeof s?.name !== 'string' || typeof s.description !== 'string' || typeof s.run !== 'function') throw new Error(`scenarios/${file}.mjs: export default { name, description, run(ctx) }`);
    return s;
  }),
);
