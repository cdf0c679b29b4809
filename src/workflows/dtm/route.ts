// /api/dtmsvr — DTM's HTTP protocol, served by sagaflow: newGid, prepare, submit, abort, registerBranch (and its
// aliases), query, all, version. Each global transaction is one dtmTransaction workflow; prepare and submit start it
// or join it in one update-with-start call, abort and registerBranch are updates, and the workflow's answer is the
// protocol's (protocol.ts: 200 SUCCESS / 409 FAILURE / 425 ONGOING). A gid whose record shows it finished is never
// started again, also past Temporal's retention. Errors of the platform (Temporal or a database down) answer the
// API's envelope with their status; DTM's clients read any non-200 as an error.
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { Context } from 'hono';
import { Counter, Gauge } from 'prom-client';
import type { z } from 'zod';
import { answerOf, isTerminal, type Result, type TransRecord } from '../../activities/dtm/contract';
import { countTransactions, findTransaction, listTransactions } from '../../activities/dtm/reads';
import { checkAllowedUrl, UnsafeUrlError } from '../../platform/url-allow';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { waitWithin } from '../../platform/http/flow-temporal';
import { FLOWS_UNIT, taskQueueOf } from '../../platform/stores';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { RegisterSchema, registerOf, TransBodySchema, transBodyOf, urlsOf } from './body';
import {
  abortUpdate,
  dtmWorkflowId,
  dtmWorkflowType,
  GidKey,
  prepareUpdate,
  registerBranchUpdate,
  submitUpdate,
  transactionQuery,
  TransTypeKey,
  type Ack,
  type DtmStart,
  type TransBody,
} from './contract';

export const DTM_PATH = '/api/dtmsvr';
const VERSION = 'v1.18.0-sagaflow';

type Ctx = Context<AppEnv>;

function dtmMetrics({ metrics, stores }: AppDeps) {
  const { registry } = metrics;
  const requests =
    (registry.getSingleMetric('sagaflow_dtm_requests_total') as Counter<'endpoint' | 'trans_type' | 'result'> | undefined) ??
    new Counter({ name: 'sagaflow_dtm_requests_total', help: 'DTM protocol calls by endpoint, transaction type and answer', labelNames: ['endpoint', 'trans_type', 'result'], registers: [registry] });
  if (!registry.getSingleMetric('sagaflow_dtm_transactions')) {
    new Gauge({
      name: 'sagaflow_dtm_transactions',
      help: 'DTM global transactions by type and status (the durable record, read at scrape time)',
      labelNames: ['trans_type', 'status'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await countTransactions(stores).catch(() => [])) this.set({ trans_type: r.trans_type, status: r.status }, r.n);
      },
    });
  }
  return { requests };
}

/** The transaction as `query` shows it: the record once it is final, else the workflow's own view, else the record. */
async function transactionOf(deps: AppDeps, gid: string): Promise<TransRecord | undefined> {
  const record = await findTransaction(deps.stores, gid);
  if (record && isTerminal(record.status)) return record;
  const handle = deps.temporal.workflow.getHandle(dtmWorkflowId(gid));
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + 3_000, async () => {
      const { status } = await handle.describe();
      return status.name === 'RUNNING' ? handle.query(transactionQuery) : ((await handle.result()) as TransRecord);
    });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || record) return record;
    throw err;
  }
}

function refusedUrl(urls: string[], deps: AppDeps): Promise<string | undefined> {
  const config = deps.live?.current().config ?? deps.config; // DTM_BRANCH_URL_ALLOW changes live (hot reload)
  const policy = { production: config.env === 'production', allow: config.dtm.branchUrlAllow };
  return Promise.all(urls.map((u) => checkAllowedUrl(u, policy))).then(
    () => undefined,
    (err) => {
      if (err instanceof UnsafeUrlError) return `branch URL refused: ${err.message}`;
      throw err;
    },
  );
}

async function parse<S extends z.ZodTypeAny>(c: Ctx, schema: S): Promise<z.infer<S> | string> {
  const raw = await c.req.json().catch(() => undefined);
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  return r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

/** prepare and submit: start the workflow or join it, and deliver the update, in one call. */
async function startOrJoin(deps: AppDeps, via: DtmStart['via'], body: TransBody): Promise<Ack> {
  const { temporal, config } = deps;
  const record = await findTransaction(deps.stores, body.gid);
  if (record && isTerminal(record.status)) return { result: 'FAILURE', message: `current status '${record.status}', cannot ${via}` };
  const operation = new WithStartWorkflowOperation(dtmWorkflowType, {
    workflowId: dtmWorkflowId(body.gid),
    taskQueue: taskQueueOf(config.temporal.taskQueuePrefix, FLOWS_UNIT),
    args: [{ body, via, queuePrefix: config.temporal.taskQueuePrefix } satisfies DtmStart],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: `DTM ${body.transType} ${body.gid}`,
    typedSearchAttributes: [
      { key: GidKey, value: body.gid },
      { key: TransTypeKey, value: body.transType },
      { key: FlowStatusKey, value: via === 'submit' ? 'SUBMITTED' : 'PREPARED' },
    ],
  });
  try {
    return await temporal.workflow.executeUpdateWithStart(via === 'submit' ? submitUpdate : prepareUpdate, { args: [body], startWorkflowOperation: operation });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const closed = await transactionOf(deps, body.gid); // the gid's workflow already ended
    return { result: 'FAILURE', message: `current status '${closed?.status ?? 'finished'}', cannot ${via}` };
  }
}

/** abort and registerBranch: an update of a running transaction. */
async function update<A>(deps: AppDeps, gid: string, def: typeof abortUpdate | typeof registerBranchUpdate, arg: A): Promise<Ack> {
  const handle: WorkflowHandle = deps.temporal.workflow.getHandle(dtmWorkflowId(gid));
  try {
    return await handle.executeUpdate(def as never, { args: [arg] as never });
  } catch (err) {
    const name = (err as Error)?.name;
    if (!(err instanceof WorkflowNotFoundError) && name !== 'WorkflowUpdateFailedError') throw err;
    const tx = await transactionOf(deps, gid);
    return { result: 'FAILURE', message: tx ? `current status '${tx.status}'` : `transaction ${gid} not found` };
  }
}

export function dtmRouter(deps: AppDeps): Mount {
  const { temporal, config } = deps;
  const router = new OpenAPIHono<AppEnv>();
  const { requests } = dtmMetrics(deps);

  const answer = (c: Ctx, endpoint: string, transType: string, result: Result, message?: string, extra: Record<string, unknown> = {}) => {
    requests.inc({ endpoint, trans_type: transType, result });
    const a = answerOf(result, message);
    return c.json({ ...a.body, ...extra }, a.status);
  };
  const badRequest = (c: Ctx, message: string) => c.json({ dtm_result: 'FAILURE', message }, 400);

  router.get('/newGid', (c) => answer(c, 'newGid', '', 'SUCCESS', undefined, { gid: randomUUID().replace(/-/g, '') }));
  router.get('/version', (c) => c.json({ version: VERSION }));

  for (const endpoint of ['prepare', 'submit'] as const) {
    router.post(`/${endpoint}`, async (c) => {
      const parsed = await parse(c, TransBodySchema);
      if (typeof parsed === 'string') return badRequest(c, parsed);
      const body = transBodyOf(parsed);
      const refused = await refusedUrl(urlsOf(body), deps);
      if (refused) return badRequest(c, refused);
      const ack = await startOrJoin(deps, endpoint, body);
      if (ack.result !== 'SUCCESS' || endpoint !== 'submit' || !body.options.waitResult) return answer(c, endpoint, body.transType, ack.result, ack.message);
      // wait_result: answer once the transaction has ended: 200 if it succeeded, 409 with the rollback reason if not.
      // A client that stops waiting sooner sees an error, as it would from a 425: waiting longer never answers worse.
      const seconds = Math.max(1, Math.floor(config.api.requestTimeoutMs / 1000) - 1);
      const final = await waitWithin(deps, seconds, () => temporal.workflow.getHandle(dtmWorkflowId(body.gid)).result() as Promise<TransRecord>);
      if (!final) return answer(c, endpoint, body.transType, 'ONGOING', 'the transaction is still running');
      return final.status === 'succeed' ? answer(c, endpoint, body.transType, 'SUCCESS') : answer(c, endpoint, body.transType, 'FAILURE', final.rollback_reason || final.status);
    });
  }

  router.post('/abort', async (c) => {
    const parsed = await parse(c, TransBodySchema);
    if (typeof parsed === 'string') return badRequest(c, parsed);
    const body = transBodyOf(parsed);
    const ack = await update(deps, body.gid, abortUpdate, body);
    return answer(c, 'abort', body.transType, ack.result, ack.message);
  });

  for (const endpoint of ['registerBranch', 'registerTccBranch', 'registerXaBranch']) {
    router.post(`/${endpoint}`, async (c) => {
      const parsed = await parse(c, RegisterSchema);
      if (typeof parsed === 'string') return badRequest(c, parsed);
      const r = registerOf(parsed);
      const refused = await refusedUrl([r.confirm, r.cancel, r.url].filter((u): u is string => !!u), deps);
      if (refused) return badRequest(c, refused);
      const ack = await update(deps, r.gid, registerBranchUpdate, r);
      return answer(c, 'registerBranch', r.transType, ack.result, ack.message);
    });
  }

  router.get('/query', async (c) => {
    const gid = c.req.query('gid') ?? '';
    if (!gid) return badRequest(c, 'gid is required');
    const tx = await transactionOf(deps, gid);
    if (!tx) return c.json({ transaction: null, branches: [] });
    const { branches, ...transaction } = tx;
    return c.json({ transaction, branches: branches.map((b) => ({ gid, ...b })) });
  });

  router.get('/all', async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 100) || 100, 1), 100);
    const position = Number(c.req.query('position') ?? c.req.query('last_id') ?? 0) || undefined;
    const status = c.req.query('status') || undefined;
    const rows = await listTransactions(deps.stores, { position, limit, status });
    const transactions = rows.map(({ branches: _b, ...t }) => t);
    return c.json({ transactions, next_position: rows.length === limit ? String(rows[rows.length - 1].id) : '' });
  });

  return { path: DTM_PATH, router };
}
