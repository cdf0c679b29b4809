// The payload codec: every payload (workflow and activity inputs and results, memos, summaries, failure details)
// leaves this process sealed with AES-256-GCM under the keyring's current key, the key id in its metadata. Decoding
// opens it with the key it names; a payload that is not encrypted (histories recorded before encryption, search
// attributes) passes through unchanged.
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Keyring } from './keyring';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const text = (s: string) => new Uint8Array(Buffer.from(s));
const read = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString() : undefined);

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    if (this.keyring.empty) return payloads;
    return payloads.map((payload) => {
      const { keyId, sealed } = this.keyring.seal(temporal.api.common.v1.Payload.encode(payload).finish());
      return { metadata: { [METADATA_ENCODING_KEY]: text(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text(keyId) }, data: new Uint8Array(sealed) };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (read(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = read(payload.metadata?.[KEY_ID_METADATA]);
      if (!keyId) throw new ValueError('an encrypted payload without a key id');
      if (!payload.data) throw new ValueError('an encrypted payload without data');
      return temporal.api.common.v1.Payload.decode(this.keyring.open(keyId, payload.data)) as Payload;
    });
  }
}
