// The one data converter of every Temporal client and worker: the encryption codec over the keyring from
// configuration, and the failure converter that encodes messages and stack traces (loaded by path: see
// failure-converter.ts). Bundles built ahead of time name the same path (workflowBundleOptions).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';
import { Keyring, type KeyEntry } from './keyring';

/** failure-converter.js beside this file in dist/, failure-converter.ts in the sources. */
export const failureConverterPath = ['js', 'ts'].map((ext) => join(__dirname, `failure-converter.${ext}`)).find((p) => existsSync(p))!;

export function dataConverterFor(keys: readonly KeyEntry[] | Keyring): DataConverter {
  const keyring = keys instanceof Keyring ? keys : new Keyring(keys);
  return { payloadCodecs: [new EncryptionCodec(keyring)], failureConverterPath };
}
