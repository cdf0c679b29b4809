// DTM request bodies as its clients send them, read leniently: optional fields may be null, unknown keys are ignored,
// payloads may come as `payloads` (JSON strings) or `bin_payloads` (base64, the Go client's bytes). Normalised into the
// contract's TransBody / RegisterBranch.
import { z } from 'zod';
import { transTypes } from '../../activities/dtm/contract';
import type { RegisterBranch, TransBody } from './contract';

const str = z.string().max(4096).nullish();
const seconds = z.number().int().min(0).max(30 * 86_400).nullish();

export const TransBodySchema = z
  .object({
    gid: z.string().min(1).max(128).regex(/^[\w.:@+-]+$/, 'letters, digits and _ . : @ + - only'),
    trans_type: z.enum(transTypes),
    steps: z.array(z.record(z.string(), z.string().nullable())).max(100).nullish(),
    payloads: z.array(z.string().nullable()).max(100).nullish(),
    bin_payloads: z.array(z.string().nullable()).max(100).nullish(),
    query_prepared: str,
    custom_data: str,
    protocol: z.string().max(16).nullish(),
    rollback_reason: str,
    wait_result: z.boolean().nullish(),
    timeout_to_fail: seconds,
    retry_interval: seconds,
    request_timeout: seconds,
    retry_limit: z.number().int().min(0).max(1_000_000).nullish(),
    branch_headers: z.record(z.string(), z.string()).nullish(),
    concurrent: z.boolean().nullish(),
  })
  .loose();

export const RegisterSchema = z
  .object({
    gid: z.string().min(1).max(128),
    trans_type: z.enum(transTypes),
    branch_id: z.string().min(1).max(128),
    data: z.string().max(1_000_000).nullish(),
    confirm: str,
    cancel: str,
    url: str,
  })
  .loose();

const fromBase64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export function transBodyOf(b: z.infer<typeof TransBodySchema>): TransBody {
  const steps = (b.steps ?? []).map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null)) as Record<string, string>);
  const payloads = b.payloads?.length ? b.payloads.map((p) => p ?? '') : (b.bin_payloads ?? []).map((p) => (p ? fromBase64(p) : ''));
  return {
    gid: b.gid,
    transType: b.trans_type,
    steps,
    payloads,
    queryPrepared: b.query_prepared ?? '',
    customData: b.custom_data ?? '',
    protocol: b.protocol ?? 'http',
    rollbackReason: b.rollback_reason ?? '',
    concurrent: b.concurrent ?? false,
    options: {
      waitResult: b.wait_result ?? false,
      timeoutToFailS: b.timeout_to_fail ?? 0,
      retryIntervalS: b.retry_interval ?? 0,
      requestTimeoutS: b.request_timeout ?? 0,
      retryLimit: b.retry_limit ?? 0,
      branchHeaders: b.branch_headers ?? {},
    },
  };
}

export function registerOf(r: z.infer<typeof RegisterSchema>): RegisterBranch {
  return {
    gid: r.gid,
    transType: r.trans_type,
    branchId: r.branch_id,
    data: r.data ?? '',
    ...(r.confirm ? { confirm: r.confirm } : {}),
    ...(r.cancel ? { cancel: r.cancel } : {}),
    ...(r.url ? { url: r.url } : {}),
  };
}

/** Every URL a body names (steps, query_prepared), for the SSRF guard. */
export function urlsOf(body: TransBody): string[] {
  return [...body.steps.flatMap((s) => Object.values(s)), ...(body.queryPrepared ? [body.queryPrepared] : [])].filter(Boolean);
}
