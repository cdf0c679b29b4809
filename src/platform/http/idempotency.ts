// Idempotency-Key: (caller, key) → (hash of the request, flow id), stored in MySQL. The first request with a key
// claims it with a new flow id; every later one with the same key and body gets that same id (INSERT IGNORE
// serializes a burst of concurrent duplicates on the primary key); the same key with another body is 409/4090.
import { createHash, randomUUID } from 'node:crypto';
import type { Sequelize } from 'sequelize';
import { exec, select } from '../db/sql';
import { conflict } from './envelope';

export function newFlowId(): string {
  return randomUUID();
}

/** A stable JSON text: object keys sorted, so field order does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export interface ClaimInput {
  principal: string;
  key: string | undefined;
  resource: string;
  body: unknown;
  retentionHours: number;
  newId?: () => string;
}

/** Returns the flow id for this request: a new one, or the one a previous request with the same key claimed. */
export async function claimFlowId(db: Sequelize, input: ClaimInput): Promise<string> {
  const flowId = input.newId?.() ?? newFlowId();
  if (!input.key) return flowId;
  const hash = createHash('sha256').update(`${input.resource}\n${canonicalJson(input.body)}`).digest('hex');
  const inserted = await exec(
    db,
    `INSERT IGNORE INTO idempotency_keys (principal, idem_key, request_hash, resource, flow_id, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, NOW(3), NOW(3) + INTERVAL ? SECOND)`,
    [input.principal, input.key, hash, input.resource, flowId, Math.round(input.retentionHours * 3600)],
  );
  if (inserted === 1) return flowId; // the key was new: the row just written is ours (one round trip, not two)
  const [row] = await select<{ request_hash: string; flow_id: string }>(
    db,
    'SELECT request_hash, flow_id FROM idempotency_keys WHERE principal = ? AND idem_key = ?',
    [input.principal, input.key],
  );
  if (!row || row.request_hash !== hash) throw conflict('Idempotency-Key was already used with a different request');
  return row.flow_id;
}
