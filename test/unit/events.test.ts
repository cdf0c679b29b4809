// Pure logic of the event machinery: the AsyncAPI 3 document against the official schema, the catalog's schemas, the
// webhook signature (recomputed by hand, as a receiver would), backoff, and the SSRF guard's address rules.
import { createHmac } from 'node:crypto';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { eventDef, events, OrderConfirmed } from '../../src/events/catalog';
import { asyncApiDocument } from '../../src/platform/asyncapi';
import { expBackoff } from '../../src/platform/backoff';
import { isTransientDbError } from '../../src/platform/db/transient';
import { ConnectionRefusedError, DatabaseError } from 'sequelize';
import { newEvent, parseEvent } from '../../src/platform/events';
import { signature, verifySignature } from '../../src/platform/webhooks/signature';
import { addressAllowed, checkUrl, checkUrlForm } from '../../src/platform/webhooks/url-guard';

const specs = require('@asyncapi/specs') as { schemasWithoutId: Record<string, object> };

describe('the AsyncAPI document', () => {
  const doc = asyncApiDocument(events, { exchange: 'sagaflow.events', version: '1.0.0', host: '127.0.0.1:5673' });

  it('when generated from the catalog, then it validates against the official AsyncAPI 3.0.0 JSON schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    // The bundled schema (its definitions inline, without $id: the with-$id variant embeds draft-07 twice for ajv).
    const validate = ajv.compile(structuredClone(specs.schemasWithoutId['3.0.0']));
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // …and the validator is not a rubber stamp: a document with a bad operation is refused.
    expect(validate({ ...doc, operations: { x: { action: 'shout', channel: { $ref: '#/channels/none' } } } })).toBe(false);
  });

  it('when generated, then every event type has a channel addressed by its routing key, a send operation and an envelope payload', () => {
    expect(Object.values(doc.channels).map((c) => (c as { address: string }).address).sort()).toEqual(events.map((e) => e.type).sort());
    expect(Object.values(doc.operations).every((o) => (o as { action: string }).action === 'send')).toBe(true);
    const payload = (doc.components.messages.order_confirmed_v1 as { payload: { required: string[]; properties: Record<string, unknown> } }).payload;
    expect(payload.required).toEqual(expect.arrayContaining(['id', 'type', 'version', 'occurredAt', 'aggregateId', 'data']));
    expect(Object.keys((payload.properties.data as { properties: object }).properties)).toEqual(['orderId', 'customerId', 'paymentAccountId', 'total', 'currency']);
  });
});

describe('the event catalog', () => {
  it('when an event is built, then it carries the envelope and parses back; bad data is refused', () => {
    const e = newEvent(OrderConfirmed, 'o-1', { orderId: 'o-1', customerId: 'c-1', paymentAccountId: 'a-1', total: 1234, currency: 'USD' });
    expect(e).toMatchObject({ type: 'order.confirmed', version: 1, aggregateId: 'o-1', data: { total: 1234 } });
    expect(parseEvent(OrderConfirmed, JSON.parse(JSON.stringify(e)))).toEqual(e);
    expect(() => parseEvent(OrderConfirmed, { ...e, data: { ...e.data, total: 1.5 } })).toThrow();
    expect(() => parseEvent(OrderConfirmed, { ...e, version: 2 })).toThrow();
    expect(eventDef('order.confirmed')).toBe(OrderConfirmed);
    expect(new Set(events.map((d) => `${d.type}@${d.version}`)).size).toBe(events.length);
  });
});

describe('webhook signatures', () => {
  it('when a body is signed, then the documented HMAC-SHA256 of "<t>.<body>" verifies, and a tampered or stale one does not', () => {
    const secret = 'whsec_test';
    const body = JSON.stringify({ id: 'e-1', type: 'order.confirmed' });
    const t = Math.floor(Date.now() / 1000);
    const header = signature(secret, t, body);
    const byHand = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(header).toBe(`t=${t},v1=${byHand}`);
    expect(verifySignature(secret, header, body)).toBe(true);
    expect(verifySignature(secret, header, body + ' ')).toBe(false);
    expect(verifySignature('other', header, body)).toBe(false);
    expect(verifySignature(secret, signature(secret, t - 600, body), body)).toBe(false);
  });
});

describe('backoff', () => {
  it('when attempts grow, then the delay doubles from the base up to the cap, within ±20 %', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 10].map((a) => expBackoff(a, 100, 1_000, mid))).toEqual([100, 200, 400, 800, 1_000]);
    expect(expBackoff(1, 100, 1_000, () => 0)).toBe(80);
    expect(expBackoff(1, 100, 1_000, () => 1)).toBe(120);
  });
});

describe('the webhook URL guard', () => {
  const prod = { production: true };
  const dev = { production: false };

  it('when an address is private, loopback, link-local or reserved, then production refuses it; development allows loopback only', () => {
    for (const a of ['10.0.0.1', '172.16.5.4', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '224.0.0.1']) {
      expect([a, addressAllowed(a, prod)]).toEqual([a, false]);
    }
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']) expect(addressAllowed(a, prod)).toBe(true);
    expect(addressAllowed('127.0.0.1', dev)).toBe(true);
    expect(addressAllowed('::1', dev)).toBe(true);
    expect(addressAllowed('10.0.0.1', dev)).toBe(false);
  });

  it('when a URL is not https (production), carries credentials or is not a URL, then it is refused', async () => {
    expect(() => checkUrlForm('http://example.com/h', prod)).toThrow(/https/);
    expect(() => checkUrlForm('https://u:p@example.com/h', prod)).toThrow(/credentials/);
    expect(() => checkUrlForm('ftp://example.com', dev)).toThrow();
    expect(() => checkUrlForm('nope', dev)).toThrow(/valid/);
    await expect(checkUrl('https://127.0.0.1/h', prod)).rejects.toThrow(/non-public/);
    await expect(checkUrl('https://localhost/h', prod)).rejects.toThrow(/non-public/);
    await expect(checkUrl('https://[::1]/h', prod)).rejects.toThrow(/non-public/);
    await expect(checkUrl('http://127.0.0.1:9/h', dev)).resolves.toBeInstanceOf(URL);
  });
});

describe('transient database errors', () => {
  it('when the database is unreachable or a lock conflict happened, then the error is transient; a bug or bad data is not', () => {
    expect(isTransientDbError(new ConnectionRefusedError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(true);
    const deadlock = new DatabaseError(Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK', sql: '' }) as never);
    expect(isTransientDbError(deadlock)).toBe(true);
    const dup = new DatabaseError(Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY', sql: '' }) as never);
    expect(isTransientDbError(dup)).toBe(false);
    expect(isTransientDbError(new Error('injected bug'))).toBe(false);
    expect(isTransientDbError(new TypeError("Cannot read properties of undefined (reading 'total')"))).toBe(false);
  });
});
