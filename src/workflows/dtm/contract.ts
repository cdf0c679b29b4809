// The DTM-protocol flow's sandbox-safe face: one workflow per global transaction (id `dtm-<gid>`), the request it is
// started and driven with (a DTM body, normalised), its updates (prepare, submit, abort, registerBranch), the query
// that answers `GET query` while it runs, and its search attributes.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Result, TransRecord, TransType } from '../../activities/dtm/contract';

export const dtmWorkflowId = (gid: string) => `dtm-${gid}`;
export const dtmWorkflowType = 'dtmTransaction';

export const GidKey = defineSearchAttributeKey('Gid', SearchAttributeType.KEYWORD);
export const TransTypeKey = defineSearchAttributeKey('TransType', SearchAttributeType.KEYWORD);

export interface TransOptions {
  waitResult: boolean;
  /** Seconds; 0 = DTM's default for tcc/xa/msg, none for a saga. */
  timeoutToFailS: number;
  retryIntervalS: number;
  requestTimeoutS: number;
  /** 0 = no limit. */
  retryLimit: number;
  branchHeaders: Record<string, string>;
}

/** A DTM request body (prepare, submit, abort), normalised: nulls dropped, JSON strings kept as the client sent them. */
export interface TransBody {
  gid: string;
  transType: TransType;
  steps: Array<Record<string, string>>;
  payloads: string[];
  queryPrepared: string;
  customData: string;
  protocol: string;
  rollbackReason: string;
  /** Top-level `concurrent` (the Python client sends it there), besides custom_data's. */
  concurrent: boolean;
  options: TransOptions;
}

/** registerBranch (and its aliases): a TCC branch's confirm/cancel URLs and data, or an XA branch's phase-2 URL. */
export interface RegisterBranch {
  gid: string;
  transType: TransType;
  branchId: string;
  data: string;
  confirm?: string;
  cancel?: string;
  url?: string;
}

export interface DtmStart {
  body: TransBody;
  /** How the workflow was started: `prepare` (tcc, xa, msg) or `submit` (a saga, or a message never prepared). */
  via: 'prepare' | 'submit';
  queuePrefix: string;
}

export interface Ack {
  result: Result;
  message?: string;
}

export const prepareUpdate = defineUpdate<Ack, [TransBody]>('dtmPrepare');
export const submitUpdate = defineUpdate<Ack, [TransBody]>('dtmSubmit');
export const abortUpdate = defineUpdate<Ack, [TransBody]>('dtmAbort');
export const registerBranchUpdate = defineUpdate<Ack, [RegisterBranch]>('dtmRegisterBranch');
/** The transaction as `GET query` shows it (the durable record's shape). */
export const transactionQuery = defineQuery<TransRecord>('dtmTransaction');
