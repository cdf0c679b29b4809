// The payload codec and its keyring (pure): payloads sealed under the current key with its id in the metadata, opened
// by any key of the ring (rotation), unencrypted payloads passed through, tampering and unknown keys refused.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { assertWorkerConfig, loadConfig } from '../../src/config';
import { EncryptionCodec, KEY_ID_METADATA } from '../../src/platform/codec/encryption-codec';
import { Keyring } from '../../src/platform/codec/keyring';

const key = (id: string) => ({ id, key: randomBytes(32).toString('base64') });
const plain = (v: unknown) => defaultPayloadConverter.toPayload(v) as Payload;
const value = (p: Payload) => defaultPayloadConverter.fromPayload(p);
const text = (b?: Uint8Array | null) => Buffer.from(b ?? []).toString();

describe('payload codec', () => {
  const transfer = { fromAccountId: 'acc-secret-from', amount: 7_654_321 };

  it('when a payload is encoded, then its data is sealed under the current key, named in the metadata, and decodes back', async () => {
    const codec = new EncryptionCodec(new Keyring([key('k2'), key('k1')]));
    const [sealed] = await codec.encode([plain(transfer)]);
    expect(text(sealed.metadata?.encoding)).toBe('binary/encrypted');
    expect(text(sealed.metadata?.[KEY_ID_METADATA])).toBe('k2');
    expect(Buffer.from(sealed.data!).includes('acc-secret-from')).toBe(false);
    expect(value((await codec.decode([sealed]))[0])).toEqual(transfer);
  });

  it('when the keys rotate, then the new key encrypts and payloads sealed under the old one still decode', async () => {
    const [k1, k2] = [key('k1'), key('k2')];
    const [old] = await new EncryptionCodec(new Keyring([k1])).encode([plain(transfer)]);
    const rotated = new EncryptionCodec(new Keyring([k2, k1]));
    expect(value((await rotated.decode([old]))[0])).toEqual(transfer);
    expect(text((await rotated.encode([plain(1)]))[0].metadata?.[KEY_ID_METADATA])).toBe('k2');
    await expect(new EncryptionCodec(new Keyring([k2])).decode([old])).rejects.toThrow(/no payload key with id k1/);
  });

  it('when a payload is not encrypted (older histories), then it decodes unchanged', async () => {
    const codec = new EncryptionCodec(new Keyring([key('k1')]));
    const p = plain(transfer);
    expect(await codec.decode([p])).toEqual([p]);
  });

  it('when sealed data or its key id is tampered with, then decoding fails', async () => {
    const [k1, k2] = [key('k1'), { id: 'k2', key: '' }];
    k2.key = k1.key; // the same bytes under another id: the id is bound in as associated data
    const codec = new EncryptionCodec(new Keyring([k1, k2]));
    const [sealed] = await codec.encode([plain(transfer)]);
    const flipped = Buffer.from(sealed.data!);
    flipped[20] ^= 1;
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow();
    await expect(codec.decode([{ ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } }])).rejects.toThrow();
  });

  it('when PAYLOAD_KEYS is malformed, then configuration names it; production without a key refuses to start', () => {
    expect(() => loadConfig({ PAYLOAD_KEYS: 'k1:short' })).toThrow(/PAYLOAD_KEYS/);
    const k = key('k1');
    expect(loadConfig({ PAYLOAD_KEYS: `${k.id}:${k.key}` }).codec.keys).toEqual([k]);
    expect(() => assertWorkerConfig(loadConfig({ NODE_ENV: 'production' }))).toThrow(/PAYLOAD_KEYS/);
    expect(() => assertWorkerConfig(loadConfig({ NODE_ENV: 'production', PAYLOAD_KEYS: `${k.id}:${k.key}` }))).not.toThrow();
  });
});
