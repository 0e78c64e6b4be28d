/**
 * The `node:diagnostics_channel` names meshless publishes on, all under `meshless:`. Subscribe with
 * `diagnostics_channel.subscribe(channels.connection, handler)`; @meshless/metrics does.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * import { channels } from '@meshless/core';
 * diagnostics.subscribe(channels.authorization, (message) => console.log(message));
 * ```
 */
export const channels = Object.freeze({
  /** A connection was accepted and classified: `{ security, peer?, protocol?, cipher?, resumed?, remoteAddress? }`. */
  connection: 'meshless:connection',
  /** A TLS handshake failed: `{ reason, error, remoteAddress? }`. */
  handshakeFailure: 'meshless:handshake-failure',
  /** A request was authorized or denied: `{ decision, enforced, reason, peer?, security }`. */
  authorization: 'meshless:authorization',
  /** A certificate source offered new material: `{ result: 'applied' | 'rejected', source, error? }`. */
  rotation: 'meshless:rotation',
  /** A served certificate nears or passed its expiry: `{ state, role, subject, notAfter }`. */
  expiry: 'meshless:expiry',
  /** A client checked a server: `{ decision, reason, expected?, actual?, resumed }`. */
  serverVerification: 'meshless:server-verification',
  /**
   * A server emitted a request (every request, whatever its security, so coverage counts are
   * complete; the authorization channel only carries requests that had a decision):
   * `{ security, decision: 'allow' | 'deny' | 'audit_deny' | 'none', peer?, remoteAddress?, userAgent?, method? }`.
   * `none` means the server made no decision (a plaintext or `tls` request in permissive mode);
   * `audit_deny` that an audit-mode authorizer let through a peer enforcement would refuse.
   */
  request: 'meshless:request',
});

/** One of the channel names in {@link channels}. */
export type MeshlessChannelName = (typeof channels)[keyof typeof channels];
