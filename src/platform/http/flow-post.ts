// The shape every flow-starting POST shares: claim the flow id (Idempotency-Key), start or join the workflow, wait as
// asked by Prefer, and answer 200 with the final resource or 202 with the current one and its Location. The pieces
// (claimRequest, countFlow, answerOf) serve a flow that composes them itself, top-down (the transfers' batched path);
// postFlow composes them for flows whose start is one call.
import type { WorkflowHandle } from '@temporalio/client';
import type { AppDeps } from './deps';
import { ApiError, Codes } from './envelope';
import { waitForResult } from './flow-temporal';
import { claimFlowId } from './idempotency';
import { waitSeconds } from './schemas';

export interface FlowPost<V extends { status: string }, R> {
  type: string;
  /** A fresh flow id (flows whose records are sharded draw ids that land on the right shard). */
  newId?: () => string;
  collection: string;
  terminal: readonly string[];
  start(id: string): Promise<{ handle: WorkflowHandle; started: boolean }>;
  /** The resource from the database row and, when the flow ended within the wait, its result (never a query). */
  load(id: string, result: R | undefined): Promise<V | undefined>;
  /** The resource before the flow wrote anything. */
  pending(id: string): V;
  /** Waits up to `seconds` for flow `id` to end (default: the run's result; a batch answers per flow). */
  wait?(handle: WorkflowHandle, id: string, seconds: number): Promise<R | undefined>;
  /** Prefer: wait in one call (update-with-start): starts or joins flow `id` and waits up to `seconds` for its end. */
  startAndWait?(id: string, seconds: number): Promise<{ started: boolean; result: R | undefined }>;
}

/** What a flow-starting POST brings: who asks, its Idempotency-Key and Prefer header, and the body the key is bound to. */
export interface FlowRequest {
  principal: string;
  idempotencyKey?: string;
  prefer?: string;
  body: unknown;
}

/**
 * The flow id for this request: a new one, or the one an earlier request with the same key claimed. Money-moving
 * requests must be safely retriable, as payment APIs require: a retry without a key would be a new flow. Production
 * insists on the key; development and tests allow its absence (a fresh flow per request).
 */
export async function claimRequest({ stores, config }: Pick<AppDeps, 'stores' | 'config'>, request: FlowRequest, resource: string, newId?: () => string): Promise<string> {
  if (config.env === 'production' && !request.idempotencyKey) {
    throw new ApiError(Codes.badRequest, 'Idempotency-Key is required in production', {
      errors: [{ path: 'header.idempotency-key', message: 'required: a retry without it would start a second flow' }],
    });
  }
  return claimFlowId(stores.db('api'), {
    newId,
    principal: request.principal,
    key: request.idempotencyKey,
    resource,
    body: request.body,
    retentionHours: config.retention.idempotencyHours,
  });
}

/** Counts a flow started and, when it ended within the wait, how. */
export function countFlow({ metrics }: Pick<AppDeps, 'metrics'>, type: string, started: boolean, result: { status: string } | undefined) {
  if (started) metrics.flows.inc({ type, outcome: 'started' });
  if (result) metrics.flows.inc({ type, outcome: result.status.toLowerCase() });
}

/** Without Prefer: wait the answer is always 202 with the Location; with it, 200 once the flow is terminal. */
export function answerOf(view: { status: string }, waited: number, terminal: readonly string[], location: string): { status: 200 | 202; headers: Record<string, string> } {
  const done = waited > 0 && terminal.includes(view.status);
  return { status: done ? 200 : 202, headers: done ? {} : { Location: location } };
}

export async function postFlow<V extends { status: string }, R extends { status: string }>(
  deps: AppDeps,
  request: FlowRequest,
  spec: FlowPost<V, R>,
): Promise<{ view: V; status: 200 | 202; headers: Record<string, string> }> {
  const id = await claimRequest(deps, request, spec.type, spec.newId);
  const wait = waitSeconds(request.prefer);
  let result: R | undefined;
  let started: boolean;
  if (wait > 0 && spec.startAndWait && !deps.draining?.aborted) {
    ({ started, result } = await spec.startAndWait(id, wait));
  } else {
    const s = await spec.start(id);
    started = s.started;
    result = spec.wait ? await spec.wait(s.handle, id, wait) : await waitForResult<R>(deps, s.handle, wait);
  }
  countFlow(deps, spec.type, started, result);
  // Without an Idempotency-Key the id is brand new, so a flow not waited for has written nothing yet: answer its
  // pending view without a database round trip. With a key the flow may be an earlier one (USE_EXISTING joins a
  // running flow without an error), so it is read back, as is a flow waited for.
  const fresh = !request.idempotencyKey && wait === 0;
  const view = fresh ? spec.pending(id) : ((await spec.load(id, result)) ?? spec.pending(id));
  return { view, ...answerOf(view, wait, spec.terminal, `${spec.collection}/${id}`) };
}
