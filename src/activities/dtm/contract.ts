// The dtm service's sandbox-safe face: the coordinator's own service for global transactions in DTM's protocol. Its
// activities call participants' branch URLs over HTTP (on workers of its own task queue, any number, killable) and keep
// the durable record of every global transaction in its own database, which answers `query` past Temporal's retention.
//
// DTM's protocol is decided here, in one place (as DTM's dtmsvr/trans_status.go): its words (transaction types,
// statuses, branch operations), its defaults, how a participant's HTTP answer reads, and which HTTP answer the
// coordinator gives for each of its own results.

export const transTypes = ['saga', 'tcc', 'msg', 'xa'] as const;
export type TransType = (typeof transTypes)[number];
export type TransStatus = 'prepared' | 'submitted' | 'aborting' | 'succeed' | 'failed';
export type BranchStatus = 'prepared' | 'succeed' | 'failed';
export type BranchOp = 'action' | 'compensate' | 'try' | 'confirm' | 'cancel' | 'commit' | 'rollback' | 'msg';

export const terminalStatuses: readonly TransStatus[] = ['succeed', 'failed'];
export const isTerminal = (s: TransStatus) => terminalStatuses.includes(s);

/** DTM's defaults, in seconds; a transaction's own options override them. */
export const dtmDefaults = { requestTimeoutS: 3, retryIntervalS: 10, timeoutToFailS: 35 } as const;

export type Result = 'SUCCESS' | 'FAILURE' | 'ONGOING';

/**
 * A participant's answer: 425 or a body saying ONGOING → try again at the same interval; 409 or a body saying FAILURE
 * → failed; any other non-200 → an error, retried with the interval doubled; 200 → success.
 */
export function readAnswer(status: number, body: string): Result | 'ERROR' {
  if (status === 425 || body.includes('ONGOING')) return 'ONGOING';
  if (status === 409 || body.includes('FAILURE')) return 'FAILURE';
  return status === 200 ? 'SUCCESS' : 'ERROR';
}

/** The coordinator's answer for a result: 200 / 409 / 425, with the body DTM's clients read. */
export function answerOf(result: Result, message?: string): { status: 200 | 409 | 425; body: { dtm_result: Result; message?: string } } {
  const status = result === 'SUCCESS' ? 200 : result === 'FAILURE' ? 409 : 425;
  // Clients take any body containing the word FAILURE as an error: a success carries no message.
  return { status, body: result === 'SUCCESS' || message === undefined ? { dtm_result: result } : { dtm_result: result, message } };
}

/** Saga and msg branch ids: `01`, `02`, … (the step index, 1-based, two digits at least). */
export const stepBranchId = (index: number) => String(index + 1).padStart(2, '0');

/** The back-check of a prepared message is a call to `query_prepared` as branch `00`, op `msg`. */
export const backCheckBranchId = '00';


export const dtmQueue = (prefix: string) => `${prefix}-dtm`;

/** Stable failure types: a branch answered FAILURE (final for a saga action and a back-check), or its URL is refused. */
export const DtmErrors = {
  BranchFailure: 'DtmBranchFailure',
  UrlRefused: 'DtmUrlRefused',
  Ongoing: 'DtmOngoing',
  Retry: 'DtmRetry',
} as const;

export interface BranchCall {
  gid: string;
  transType: TransType;
  branchId: string;
  op: BranchOp;
  url: string;
  /** The payload sent as the body (a JSON string); empty → GET, except XA (always POST). */
  body: string;
  /** branch_headers of the transaction. */
  headers: Record<string, string>;
  requestTimeoutMs: number;
  /** The base retry interval: ONGOING retries at it, any other error doubles it per attempt. */
  retryIntervalMs: number;
  /** A FAILURE answer is final (a saga action, a back-check) rather than retried until success. */
  failureFinal: boolean;
}

/** A branch's answer once it is final: success, or (when failures are final) the participant's failure. */
export interface BranchOutcome {
  result: 'SUCCESS' | 'FAILURE';
  message?: string;
}

export interface BranchRecord {
  branch_id: string;
  op: BranchOp;
  url: string;
  status: BranchStatus;
  bin_data?: string;
  finish_time?: string | null;
}

/** The durable record of a global transaction, in DTM's query shape (snake_case, as its clients read it). */
export interface TransRecord {
  gid: string;
  trans_type: TransType;
  status: TransStatus;
  protocol: string;
  rollback_reason: string;
  query_prepared: string;
  custom_data: string;
  steps: Array<Record<string, string>>;
  payloads: string[];
  options: Record<string, unknown>;
  create_time: string;
  update_time: string;
  finish_time: string | null;
  rollback_time: string | null;
  branches: BranchRecord[];
}

/** The dtm service's activities on its task queue (declared here, implemented in activities.ts). */
export interface DtmActivities {
  /** One HTTP call to a branch, read per the protocol; non-final answers are retried by the server. */
  callBranch(call: BranchCall): Promise<BranchOutcome>;
  /** Writes the record of a global transaction (an idempotent upsert keyed by gid; never moves a terminal one back). */
  recordTransaction(record: TransRecord): Promise<void>;
}
