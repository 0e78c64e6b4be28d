import diagnostics from 'node:diagnostics_channel';
import { channels } from '@meshless/core';
import type { HandshakeFailureEvent } from './handshake-failure-event.js';

/**
 * One log line for a refused TLS handshake, in logfmt (`key=value`, values with spaces quoted), as
 * Envoy and Linkerd show refusals in their proxy logs: who, the alerting bucket, OpenSSL's verify
 * code when there is one, and the error.
 *
 * @example
 * ```ts
 * formatRefusal(event);
 * // 'meshless: refused TLS handshake remote=10.0.0.7:53412 reason=unknown_ca verify_error=UNABLE_TO_GET_ISSUER_CERT_LOCALLY error="client certificate did not verify: UNABLE_TO_GET_ISSUER_CERT_LOCALLY"'
 * ```
 */
export function formatRefusal(event: HandshakeFailureEvent): string {
  const fields = [
    `remote=${remoteOf(event)}`,
    `reason=${event.reason}`,
    ...(event.verifyError ? [`verify_error=${event.verifyError}`] : []),
    ...(event.error?.code && event.error.code !== event.verifyError ? [`code=${event.error.code}`] : []),
    `error=${quote(event.error?.message ?? 'unknown')}`,
  ];
  return `meshless: refused TLS handshake ${fields.join(' ')}`;
}

/**
 * Logs every TLS handshake a meshless server in this process refuses, one line each (see
 * {@link formatRefusal}), until the returned function is called. For one server only, or to log
 * structured fields, use the server's `onRefusal` option instead.
 *
 * @example
 * ```ts
 * const stop = logRefusals(); // console.warn
 * const stopPino = logRefusals((line) => logger.warn(line));
 * ```
 */
export function logRefusals(write: (line: string) => void = console.warn): () => void {
  const onMessage = (message: unknown) => write(formatRefusal(message as HandshakeFailureEvent));
  diagnostics.subscribe(channels.handshakeFailure, onMessage);
  return () => {
    diagnostics.unsubscribe(channels.handshakeFailure, onMessage);
  };
}

function remoteOf(event: HandshakeFailureEvent): string {
  const address = event.remoteAddress ?? 'unknown';
  const host = address.includes(':') ? `[${address}]` : address;
  return event.remotePort === undefined ? host : `${host}:${event.remotePort}`;
}

// Bare when it is one token, else a JSON string (quotes and backslashes escaped, one line).
function quote(value: string): string {
  return /^[\w.:/@-]+$/.test(value) ? value : JSON.stringify(value);
}
