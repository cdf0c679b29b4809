// A transfer as the API shows it: its row on its source's ledger shard, merged with its run's live progress (the run
// is asked for this one transfer — its own run, or the batch that holds it). Also where to send a cancel.
import { z } from '@hono/zod-openapi';
import { findTransfer } from '../../activities/ledger/reads';
import type { AppDeps } from '../../platform/http/deps';
import { askProgress } from '../../platform/http/flow-temporal';
import { Step, Timestamp } from '../../platform/http/schemas';
import { iso, mergeStatus, stepsView } from '../../platform/http/views';
import {
  batchedTransferQuery,
  batchOfTransfer,
  consistencies,
  terminalTransferStatuses,
  transferBatchWorkflowId,
  transferProgressQuery,
  transferWorkflowId,
  type Consistency as Mode,
  type TransferBatchResult,
  type TransferPhase,
  type TransferProgress,
  type TransferStatus,
} from './contract';

export const Consistency = z.enum(consistencies).openapi('Consistency', {
  description:
    'The guarantee between the two accounts (their ledger shards may be two databases on two servers). ' +
    '`saga`: debit the source, then credit the destination (the credit is never reversed; a rejected credit refunds the debit); ' +
    'cheapest, no locks held between steps, and a reader may see the money in neither account for a moment (phases started → debited → credited, or refunded). ' +
    '`tcc`: try = hold on the source (balance → frozen) and a pending, unspendable credit on the destination; confirm applies both, cancel releases both; ' +
    'a reader sees the money held on the source and pending on the destination, never spendable twice (phases started → held → confirmed, or cancelled). ' +
    '`xa`: two-phase commit (MySQL/MariaDB XA) across the two databases: both rows stay locked from prepare to commit, and a reader never sees an intermediate state ' +
    '(phases started → prepared → committed, or rolled-back). Default: the server\'s TRANSFER_CONSISTENCY (saga unless configured).',
});
const Phase = z.enum(['started', 'debited', 'credited', 'refunded', 'held', 'confirmed', 'cancelled', 'prepared', 'committed', 'rolled-back']);

export const TransferView = z
  .object({
    id: z.string(),
    status: z.enum(['RUNNING', 'COMPLETED', 'COMPENSATED', 'FAILED']),
    consistency: Consistency,
    phase: Phase.openapi({ description: 'Where the transfer is in its mode: see Consistency' }),
    fromAccountId: z.string(),
    toAccountId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    memo: z.string().nullable(),
    reason: z.string().nullable(),
    reasonCode: z.string().nullable(),
    steps: z.array(Step),
    createdAt: Timestamp.nullable(),
  })
  .openapi('Transfer');
export type TransferView = z.infer<typeof TransferView>;

/** The phase a finished transfer ended in, by status and mode, for a run whose progress is no longer known. */
const finalPhases: Record<string, Record<Mode, TransferPhase>> = {
  COMPLETED: { saga: 'credited', tcc: 'confirmed', xa: 'committed' },
  COMPENSATED: { saga: 'refunded', tcc: 'cancelled', xa: 'rolled-back' },
};

/** The transfer before its run wrote anything. */
export function pendingView(id: string, body: Omit<TransferView, 'id' | 'status' | 'phase' | 'memo' | 'reason' | 'reasonCode' | 'steps' | 'createdAt'> & { memo?: string | null }): TransferView {
  return { id, status: 'RUNNING', phase: 'started', ...body, memo: body.memo ?? null, reason: null, reasonCode: null, steps: [], createdAt: null };
}

/**
 * Reads transfers back: `load(id)` merges the row with the live progress of the run that holds the transfer — its own
 * run, or its batch; a batched transfer its batch never held (the batch closed before it arrived) has a run of its own.
 * `live`: progress already known (a wait's result); `ask`: false to skip asking the run.
 */
export function createTransferReads(deps: AppDeps) {
  return async function load(id: string, live?: TransferProgress, ask = true): Promise<TransferView | undefined> {
    const row = await findTransfer(deps.stores, id);
    const known = { closed: row ? terminalTransferStatuses.includes(row.status as TransferStatus) : false, hasRow: !!row };
    const batch = batchOfTransfer(id);
    const pick = (r: TransferBatchResult) => r.transfers.find((t) => t.id === id);
    const progress =
      live ??
      (!ask
        ? undefined
        : ((batch ? await askProgress(deps, transferBatchWorkflowId(batch), batchedTransferQuery, { ...known, args: [id], pick }) : undefined) ??
          (await askProgress(deps, transferWorkflowId(id), transferProgressQuery, known))));
    if (!row && !progress) return undefined;
    const status = mergeStatus(row?.status as TransferStatus | undefined, progress?.status, terminalTransferStatuses, 'RUNNING');
    const consistency = progress?.consistency ?? 'saga';
    return {
      id,
      status,
      consistency,
      phase: progress?.phase ?? finalPhases[status]?.[consistency] ?? 'started',
      fromAccountId: row?.from_account_id ?? progress!.fromAccountId,
      toAccountId: row?.to_account_id ?? progress!.toAccountId,
      amount: Number(row?.amount ?? progress!.amount),
      currency: row?.currency ?? progress!.currency,
      memo: (row ? row.memo : progress?.memo) ?? null,
      reason: row?.reason ?? progress?.reason?.message ?? null,
      reasonCode: row?.reason_code ?? progress?.reason?.code ?? null,
      steps: stepsView(progress?.steps),
      createdAt: iso(row?.created_at),
    };
  };
}
