// Connection options for the Temporal frontend, shared by the client (API) and the worker: plain TCP for the dev
// server, TLS with client certificates for a self-hosted cluster, API key (+TLS) for Temporal Cloud.
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { Config } from '../../config';
import { dataConverterFor } from '../codec/data-converter';

export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
}

export function connectionOptions(t: Config['temporal']): TemporalConnectionOptions {
  const tls = t.tls && {
    serverNameOverride: t.tls.serverName,
    serverRootCACertificate: t.tls.caPath ? readFileSync(t.tls.caPath) : undefined,
    clientCertPair:
      t.tls.certPath && t.tls.keyPath ? { crt: readFileSync(t.tls.certPath), key: readFileSync(t.tls.keyPath) } : undefined,
  };
  return { address: t.address, apiKey: t.apiKey, tls: tls || undefined };
}

/**
 * The API's client. With tracing on, its interceptor starts a span per workflow start/update/query and propagates the
 * context; with tracing off it has no interceptor at all. Payloads are encrypted with `codec`'s keys (PAYLOAD_KEYS).
 */
export async function connectClient(t: Config['temporal'], codec: Config['codec'], { traced = false } = {}): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(t), connectTimeout: 5_000 });
  const interceptors = traced ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
  return new Client({ connection, namespace: t.namespace, interceptors, dataConverter: dataConverterFor(codec.keys) });
}
