// What operators see: a run found by its business id in the Temporal CLI, and opened in the embedded Web UI (Debian's
// Chromium driven by playwright-core) showing its summary. The screenshot is kept in test/artifacts/.
import { transferRunWorkflowId } from '../../src/workflows/transfer/contract';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiEnv, type ApiEnv } from '../helpers/api';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = join(process.cwd(), 'test/artifacts');

describe.skipIf(!existsSync(chromiumPath) || !process.env.TEMPORAL_UI_URL)('operators: Temporal CLI and Web UI', () => {
  let api: ApiEnv;
  let browser: Browser;
  let transfer: { id: string; summary: string };
  beforeAll(async () => {
    api = await createApiEnv();
    const open = async (owner: string, initialBalance: number) =>
      (await api.call('POST', '/v1/accounts', { owner, currency: 'USD', initialBalance })).json.data.id as string;
    const [from, to] = [await open('ui-a', 10_000), await open('ui-b', 0)];
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 2_500, currency: 'USD' }, { prefer: 'wait=30' });
    expect(res.json.data.status).toBe('COMPLETED');
    transfer = { id: res.json.data.id, summary: `Transfer 25.00 USD ${from} → ${to}` };
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('when listed by TransferId with the CLI, then the run is found', () => {
    const out = execFileSync(
      process.env.TEMPORAL_CLI!,
      ['workflow', 'list', '--query', `TransferId="${transfer.id}"`, '--address', api.config.temporal.address, '--output', 'json'],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toMatchObject([{ execution: { workflowId: transferRunWorkflowId(transfer.id) }, status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED' }]);
  });

  it('when the run is opened in the Web UI, then its summary is shown', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${process.env.TEMPORAL_UI_URL}/namespaces/default/workflows/${transferRunWorkflowId(transfer.id)}`);
    await page.getByText(transfer.summary).first().waitFor({ timeout: 30_000 });
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'web-ui-transfer.png'), fullPage: true });
    expect(await page.getByText(transfer.summary).count()).toBeGreaterThan(0);
  });
});
