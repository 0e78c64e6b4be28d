import { type CertificateSource, channels, invalidOption, type TlsMaterial } from '@meshless/core';
import { subscribeAll } from './channel-subscriptions.js';
import { type ExpiryWarning, ExpiryWarnings } from './expiry-warnings.js';
import { COUNTERS, type CounterKey } from './instruments.js';
import { bounded, clipped, LABEL_VALUES } from './labels.js';
import type { ResolvedOptions } from './options.js';
import { type ServedCertificate, ServedCertificates } from './served-certificates.js';

/**
 * Label names to values.
 *
 * @example
 * ```ts
 * const labels: Labels = { security: 'mtls', decision: 'allow' };
 * ```
 */
export type Labels = Record<string, string>;

/**
 * Where the observer counts: one implementation per metrics library.
 *
 * @example
 * ```ts
 * const sink: CounterSink = {
 *   add: (key, labels) => counters[key].inc(labels),
 *   zero: (key, labels) => counters[key].inc(labels, 0),
 * };
 * ```
 */
export interface CounterSink {
  /** Adds one to the counter's series for `labels`. */
  add(key: CounterKey, labels: Labels): void;
  /** Creates the series for `labels` at zero, when it does not exist yet. */
  zero(key: CounterKey, labels: Labels): void;
}

/**
 * The part shared by both adapters: channel subscriptions, served certificates, expiry warnings.
 *
 * @example
 * ```ts
 * const observer: Observer = createObserver(resolveOptions({}, 'example'), sink);
 * observer.certificates(); // what the expiry gauge reports
 * ```
 */
export interface Observer {
  observeSource(source: CertificateSource): () => void;
  certificates(): ServedCertificate[];
  close(): void;
}

type Message = Record<string, unknown>;

// Source names come from configuration; a process has a handful. Past this, no zero series are made.
const MAX_SOURCES = 64;

/**
 * Turns meshless's diagnostics channel messages into counter increments (with bounded labels) and
 * keeps the set of served certificates for the expiry gauge.
 *
 * @example
 * ```ts
 * const observer = createObserver(resolveOptions({}, 'example'), { add: (key, labels) => {}, zero: () => {} });
 * observer.close();
 * ```
 */
export function createObserver(options: ResolvedOptions, sink: CounterSink): Observer {
  const served = new ServedCertificates();
  const warnings = new ExpiryWarnings();
  const seenSources = new Set<string>();
  const { peer } = options;
  const withPeer = (labels: Labels, message: Message): Labels => {
    if (peer) labels.peer = peer(message.peer);
    return labels;
  };

  for (const [key, definition] of Object.entries(COUNTERS) as [CounterKey, (typeof COUNTERS)[CounterKey]][]) {
    // A peer label's values are only known as peers arrive; zero series are made for the rest.
    if (peer && definition.peer) continue;
    for (const labels of definition.initial ?? []) sink.zero(key, { ...labels });
  }

  const unsubscribe = subscribeAll(
    {
      [channels.connection]: (m) => {
        const message = m as Message;
        sink.add(
          'connections',
          withPeer({ security: bounded(message.security, LABEL_VALUES.security) }, message),
        );
      },
      [channels.request]: (m) => {
        const message = m as Message;
        const labels = {
          security: bounded(message.security, LABEL_VALUES.security),
          decision: bounded(message.decision, LABEL_VALUES.requestDecision),
        };
        sink.add('requests', withPeer(labels, message));
      },
      [channels.authorization]: (m) => {
        const message = m as Message;
        const labels = {
          decision: bounded(message.decision, LABEL_VALUES.authorizationDecision),
          enforced: message.enforced === false ? 'false' : 'true',
          // The server's messages have no layer; middleware name theirs.
          layer: message.layer === undefined ? 'server' : bounded(message.layer, LABEL_VALUES.layer),
        };
        sink.add('authorizations', withPeer(labels, message));
        // Only middleware with bearer JWT-SVIDs enabled name the credential they judged.
        if (message.credential !== undefined) {
          sink.add('credentials', {
            credential: bounded(message.credential, LABEL_VALUES.credential),
            decision: labels.decision,
            layer: labels.layer,
          });
        }
      },
      [channels.handshakeFailure]: (m) => {
        sink.add('handshakeFailures', {
          reason: bounded((m as Message).reason, LABEL_VALUES.handshakeReason),
        });
      },
      [channels.rotation]: (m) => {
        const message = m as Message;
        const source = clipped(message.source);
        const result = bounded(message.result, LABEL_VALUES.rotationResult);
        if (!seenSources.has(source) && seenSources.size < MAX_SOURCES) {
          // Both results exist from the first message on, so increase() sees the first failure.
          seenSources.add(source);
          for (const r of LABEL_VALUES.rotationResult) sink.zero('rotations', { result: r, source });
        }
        sink.add('rotations', { result, source });
        const material = message.material as TlsMaterial | undefined;
        if (result === 'applied' && material?.leaf) served.rotated(material, source);
      },
      [channels.expiry]: (m) => {
        const warning = m as ExpiryWarning;
        if (!warnings.isNew(warning)) return;
        sink.add('expiryWarnings', {
          state: bounded(warning.state, LABEL_VALUES.expiryState),
          role: bounded(warning.role, LABEL_VALUES.expiryRole),
        });
        callHook(options.onExpiryWarning, warning);
      },
    },
    '@meshless/metrics',
  );

  const observed = new Map<CertificateSource, (material: TlsMaterial) => void>();
  const unobserve = (source: CertificateSource) => {
    const listener = observed.get(source);
    if (!listener) return;
    observed.delete(source);
    source.off('update', listener);
    served.untrack(source);
  };

  let closed = false;
  return {
    observeSource(source) {
      if (closed) throw new Error('@meshless/metrics: observeSource() after unregister()');
      if (!source || typeof source.current !== 'function' || typeof source.on !== 'function')
        throw invalidOption('observeSource', 'source', source, 'a CertificateSource');
      if (!observed.has(source)) {
        const listener = (material: TlsMaterial) => {
          served.track(source, material);
          served.forgetNamed(material.contentHash);
        };
        observed.set(source, listener);
        const material = currentOf(source);
        if (material) listener(material);
        source.on('update', listener);
      }
      return () => unobserve(source);
    },
    certificates: () => served.list(),
    close() {
      closed = true;
      unsubscribe();
      for (const source of [...observed.keys()]) unobserve(source);
    },
  };
}

function callHook(hook: ((warning: ExpiryWarning) => void) | undefined, warning: ExpiryWarning): void {
  if (!hook) return;
  try {
    hook(warning);
  } catch (error) {
    process.emitWarning(`@meshless/metrics: onExpiryWarning threw: ${String(error)}`, {
      code: 'MESHLESS_METRICS',
    });
  }
}

// A source whose issuer withdrew its material throws from current() (fail closed); it then serves
// nothing until its next update, which the listener picks up.
function currentOf(source: CertificateSource): TlsMaterial | undefined {
  try {
    return source.current();
  } catch {
    return undefined;
  }
}
