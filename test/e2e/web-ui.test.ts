// What operators see: a run found by its business id in the Temporal CLI, and opened in the embedded Web UI (Debian's
// Chromium driven by playwright-core) showing its summary and input decoded through the API's codec endpoints (the
// test stack starts the UI pointed at SAGAFLOW_CODEC_PORT, where this file serves the API). The operator signs in to
// the codec endpoints once (a session cookie) and tells the UI to include credentials, as the README says. The raw
// history holds none of what the page shows. The screenshot is kept in test/artifacts/.
import { transferRunWorkflowId } from '../../src/workflows/transfer/contract';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { temporal } from '@temporalio/proto';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiEnv, type ApiEnv } from '../helpers/api';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = join(process.cwd(), 'test/artifacts');
const codecPort = Number(process.env.SAGAFLOW_CODEC_PORT);
const secret = 'web-ui-operator-secret';
const auth = { authorization: `Bearer ${secret}` };

describe.skipIf(!existsSync(chromiumPath) || !process.env.TEMPORAL_UI_URL || !codecPort)('operators: Temporal CLI and Web UI', () => {
  let api: ApiEnv;
  let browser: Browser;
  let server: ServerType;
  let transfer: { id: string; summary: string; from: string };
  beforeAll(async () => {
    api = await createApiEnv({ API_KEYS: `ops:${secret}`, CODEC_CORS_ORIGIN: process.env.TEMPORAL_UI_URL! });
    server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: codecPort });
    const open = async (owner: string, initialBalance: number) =>
      (await api.call('POST', '/v1/accounts', { owner, currency: 'USD', initialBalance }, auth)).json.data.id as string;
    const [from, to] = [await open('ui-a', 10_000), await open('ui-b', 0)];
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 2_500, currency: 'USD' }, { ...auth, prefer: 'wait=30' });
    expect(res.json.data.status).toBe('COMPLETED');
    transfer = { id: res.json.data.id, summary: `Transfer 25.00 USD ${from} → ${to}`, from };
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
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

  it('when the run is opened in the Web UI by a signed-in operator, then its summary and input show decoded, which raw history does not hold', async () => {
    const workflowId = transferRunWorkflowId(transfer.id);
    const { history } = await api.env.client.workflowService.getWorkflowExecutionHistory({ namespace: api.config.temporal.namespace, execution: { workflowId } });
    expect(Buffer.from(temporal.api.history.v1.History.encode(history!).finish()).includes(transfer.from)).toBe(false);

    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    // Sign in to the codec endpoints (the session cookie), then the UI's codec settings: this endpoint, with credentials.
    const signIn = await context.newPage();
    await signIn.goto(`http://127.0.0.1:${codecPort}/codec/session`);
    await signIn.fill('input[name=key]', secret);
    await signIn.click('button[type=submit]');
    await signIn.getByText('Signed in').waitFor({ timeout: 10_000 });
    await context.addInitScript(
      ({ origin, endpoint }) => {
        const w = globalThis as any; // runs in the page (this project compiles without the DOM types)
        if (w.location.origin !== origin) return;
        w.localStorage.setItem('endpoint', JSON.stringify(endpoint));
        w.localStorage.setItem('includeCredentials', 'true');
        w.localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
      },
      { origin: process.env.TEMPORAL_UI_URL!, endpoint: `http://127.0.0.1:${codecPort}/codec` },
    );
    const page = await context.newPage();
    await page.goto(`${process.env.TEMPORAL_UI_URL}/namespaces/default/workflows/${workflowId}`);
    await page.getByText(transfer.summary).first().waitFor({ timeout: 30_000 });
    await page.getByText(transfer.from).first().waitFor({ timeout: 30_000 });
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'web-ui-transfer.png'), fullPage: true });
    expect(await page.getByText(transfer.summary).count()).toBeGreaterThan(0);
    expect(await page.getByText(transfer.from).count()).toBeGreaterThan(0);
    await context.close();
  });
});
