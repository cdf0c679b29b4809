// dtmTransaction: one durable workflow per DTM global transaction (id `dtm-<gid>`). It holds the transaction's state,
// answers the coordinator's updates (prepare, submit, abort, registerBranch) from it, waits while it is prepared (one
// timer: timeout-to-fail), and drives it to its end with the processor of its type. The durable record is written when
// it starts and when it ends; `query` asks the workflow in between.
import { CancellationScope, condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { TransRecord } from '../../activities/dtm/contract';
import { isTerminal, type TransType } from '../../activities/dtm/contract';
import { abortUpdate, prepareUpdate, registerBranchUpdate, submitUpdate, transactionQuery, TransTypeKey, type Ack, type DtmStart, type RegisterBranch, type TransBody } from './contract';
import { msg } from './msg';
import type { Processor } from './processor';
import { saga } from './saga';
import { tcc } from './tcc';
import { Transaction } from './transaction';
import { xa } from './xa';

const processors: Record<TransType, Processor> = { saga, tcc, msg, xa };

const ok: Ack = { result: 'SUCCESS' };
const refuse = (message: string): Ack => ({ result: 'FAILURE', message });

function onSubmit(tx: Transaction, body: TransBody): Ack {
  if (tx.status === 'submitted') return ok; // a re-submit is harmless
  if (tx.status !== 'prepared') return refuse(`current status '${tx.status}', cannot submit`);
  if (!tx.body.steps.length && body.steps.length) {
    tx.body = { ...tx.body, steps: body.steps, payloads: body.payloads };
    processors[tx.body.transType].declare(tx);
  }
  tx.setStatus('submitted');
  return ok;
}

function onAbort(tx: Transaction, body: TransBody): Ack {
  if (tx.body.transType === 'saga') return refuse('a saga cannot be aborted');
  if (tx.status === 'aborting' || (tx.status === 'failed' && tx.body.transType !== 'msg')) return ok;
  if (tx.status !== 'prepared') return refuse(`current status '${tx.status}', cannot abort`);
  tx.setStatus('aborting', body.rollbackReason || 'aborted');
  return ok;
}

function onRegister(tx: Transaction, r: RegisterBranch): Ack {
  if (tx.status !== 'prepared') return refuse(`current status '${tx.status}', cannot register a branch`);
  const type = tx.body.transType;
  if (type !== 'tcc' && type !== 'xa') return refuse(`a ${type} transaction registers no branches`);
  const pair: Array<[Parameters<Transaction['addBranch']>[1], string | undefined]> = type === 'tcc' ? [['cancel', r.cancel], ['confirm', r.confirm]] : [['rollback', r.url], ['commit', r.url]];
  if (pair.some(([, url]) => !url)) return refuse(type === 'tcc' ? 'confirm and cancel URLs are required' : 'url is required');
  for (const [op, url] of pair) {
    const existing = tx.branch(r.branchId, op);
    if (existing) existing.url = url!; // a retried registration
    else tx.addBranch(r.branchId, op, url!, r.data);
  }
  return ok;
}

export async function dtmTransaction(start: DtmStart): Promise<TransRecord> {
  const tx = new Transaction(start.body, start);
  const processor = processors[start.body.transType];
  processor.declare(tx);
  upsertSearchAttributes([{ key: TransTypeKey, value: start.body.transType }]);
  tx.setStatus(tx.status);

  setHandler(transactionQuery, () => tx.view());
  setHandler(prepareUpdate, (): Ack => (tx.status === 'prepared' ? ok : refuse(`current status '${tx.status}', cannot prepare`)));
  setHandler(submitUpdate, (body) => onSubmit(tx, body));
  setHandler(abortUpdate, (body) => onAbort(tx, body));
  setHandler(registerBranchUpdate, (r) => onRegister(tx, r));

  const first = tx.record();
  if (tx.status === 'prepared') {
    const timeout = tx.timeoutToFailMs();
    const moved = timeout === undefined ? await condition(() => tx.status !== 'prepared').then(() => true) : await condition(() => tx.status !== 'prepared', timeout);
    if (!moved) {
      // Expiry may wait on the application (a back-check answering ONGOING): a submit or an abort meanwhile ends it.
      const expiry = new CancellationScope();
      const expiring = expiry.run(() => processor.expire(tx));
      await Promise.race([expiring, condition(() => tx.status !== 'prepared')]);
      expiry.cancel();
      await expiring;
    }
  }
  if (!isTerminal(tx.status)) await processor.process(tx);
  await first;
  await tx.record();
  return tx.view();
}
