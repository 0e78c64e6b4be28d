import { LABEL_VALUES } from './labels.js';

/**
 * The counters meshless keeps, by key.
 *
 * @example
 * ```ts
 * const key: CounterKey = 'requests';
 * COUNTERS[key].name; // 'requests_total'
 * ```
 */
export type CounterKey =
  | 'connections'
  | 'requests'
  | 'authorizations'
  | 'handshakeFailures'
  | 'rotations'
  | 'expiryWarnings'
  | 'credentials';

/**
 * One counter: its name without the prefix, its help text and its labels (`peer` added by policy).
 *
 * @example
 * ```ts
 * const { name, labels }: CounterDefinition = COUNTERS.handshakeFailures; // 'handshake_failures_total', ['reason']
 * ```
 */
export interface CounterDefinition {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
  /** Whether the counter gets a `peer` label when a peer label policy is set. */
  readonly peer: boolean;
  /** Label sets known up front, created at zero so that `rate()` and `increase()` see the first event. */
  readonly initial?: readonly Readonly<Record<string, string>>[];
}

const security = (values: readonly string[], decision: string) =>
  values.map((value) => ({ security: value, decision }));

/**
 * The counters, in one table shared by the Prometheus and OpenTelemetry adapters so that both expose
 * the same instruments. Prometheus names end in `_total`; OpenTelemetry names drop it, because
 * exporters to Prometheus append it to monotonic sums.
 *
 * @example
 * ```ts
 * for (const [key, { name, help }] of Object.entries(COUNTERS)) console.log(key, name, help);
 * ```
 */
export const COUNTERS: Readonly<Record<CounterKey, CounterDefinition>> = Object.freeze({
  connections: {
    name: 'connections_total',
    help: 'Connections accepted, by how they are secured: mtls (verified client certificate), tls (no client certificate) or plaintext.',
    labels: ['security'],
    peer: true,
    initial: LABEL_VALUES.security.map((value) => ({ security: value })),
  },
  requests: {
    name: 'requests_total',
    help: 'Requests served, by how their connection is secured and the server-level decision (allow, deny, audit_deny, or none when the server made no decision).',
    labels: ['security', 'decision'],
    peer: true,
    initial: [
      ...security(['mtls'], 'allow'),
      ...security(['mtls'], 'deny'),
      ...security(['tls', 'plaintext'], 'none'),
    ],
  },
  authorizations: {
    name: 'authorization_decisions_total',
    help: 'Authorization decisions on verified peers, by decision, whether it was enforced (false in audit mode) and the layer that decided (server, express, fastify).',
    labels: ['decision', 'enforced', 'layer'],
    peer: true,
  },
  handshakeFailures: {
    name: 'handshake_failures_total',
    help: 'TLS handshakes that failed, by reason: no_certificate, unknown_ca, expired, bad_certificate, timeout, protocol.',
    labels: ['reason'],
    peer: false,
    initial: LABEL_VALUES.handshakeReason.map((reason) => ({ reason })),
  },
  rotations: {
    name: 'rotations_total',
    help: 'Certificate updates offered by a source, by result: applied (now served) or rejected (invalid; the previous material stays).',
    labels: ['result', 'source'],
    peer: false,
  },
  expiryWarnings: {
    name: 'certificate_expiry_warnings_total',
    help: 'Certificates that entered the expiring window or expired while served, once per certificate and state.',
    labels: ['state', 'role'],
    peer: false,
    initial: LABEL_VALUES.expiryState.flatMap((state) =>
      LABEL_VALUES.expiryRole.map((role) => ({ state, role })),
    ),
  },
  credentials: {
    name: 'request_credentials_total',
    help: 'Decisions of middleware that also admit bearer JWT-SVIDs, by the credential judged (x509-svid: the client certificate; jwt-svid: the bearer token), decision and layer.',
    labels: ['credential', 'decision', 'layer'],
    peer: false,
  },
});

/**
 * The gauge of served certificates' expiry times.
 *
 * @example
 * ```ts
 * `meshless_${EXPIRY_GAUGE.name}`; // 'meshless_certificate_expiry_timestamp_seconds'
 * ```
 */
export const EXPIRY_GAUGE = Object.freeze({
  name: 'certificate_expiry_timestamp_seconds',
  help: 'When each served certificate expires (notAfter, Unix seconds), by role: leaf, intermediate or root of the trust bundle.',
  labels: ['role', 'subject', 'serial_number'] as const,
});

/**
 * The label names of a counter under a peer label policy.
 *
 * @example
 * ```ts
 * labelNamesOf(COUNTERS.requests, true); // ['security', 'decision', 'peer']
 * ```
 */
export function labelNamesOf(definition: CounterDefinition, withPeer: boolean): string[] {
  return withPeer && definition.peer ? [...definition.labels, 'peer'] : [...definition.labels];
}

/**
 * The OpenTelemetry instrument name for a Prometheus-style counter name.
 *
 * @example
 * ```ts
 * openTelemetryName('meshless_', 'requests_total'); // 'meshless_requests'
 * ```
 */
export function openTelemetryName(prefix: string, name: string): string {
  return `${prefix}${name.replace(/_total$/, '')}`;
}
