// Replays the recorded history of every path of both flows against today's workflow code: a change to a workflow's
// command sequence that is not guarded by patched() fails here, before it can break running flows in production.
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { testTracingPlugin } from '../helpers/env';

const dir = join(process.cwd(), 'test/fixtures/histories');
// pre-patch-*: histories recorded before a patched() change, kept to prove that older runs still replay.
const files = readdirSync(dir).filter((f) => /^(pre-patch-)?(transfer|order)-.*\.json$/.test(f));

describe('replay of recorded flow histories', () => {
  it('covers every path of both flows', () => {
    expect(files.filter((f) => f.startsWith('transfer-')).length).toBeGreaterThanOrEqual(3);
    expect(files.filter((f) => f.startsWith('order-')).length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('when %s is replayed on the current code, then it is deterministic', async (file) => {
    const history: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8')); // the SDK reads the CLI's JSON form
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, plugins: [testTracingPlugin()] }, history, file);
  });
});
