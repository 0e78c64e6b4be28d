import type { X509Certificate } from 'node:crypto';
import { type TlsMaterial, trustedRoots } from '@meshless/core';

/**
 * One certificate meshless is serving or trusting right now.
 *
 * @example
 * ```ts
 * const soonest = served.list().sort((a: ServedCertificate, b: ServedCertificate) => a.notAfter - b.notAfter)[0];
 * ```
 */
export interface ServedCertificate {
  readonly role: 'leaf' | 'intermediate' | 'root';
  /** The subject as one line, `CN=..., O=...`. */
  readonly subject: string;
  /** Upper-case hexadecimal. */
  readonly serialNumber: string;
  readonly fingerprint256: string;
  /** notAfter, in milliseconds since the epoch. */
  readonly notAfter: number;
}

// Sources that only show up on the rotation channel are keyed by their name; a process has a handful.
const MAX_NAMED_SOURCES = 64;

interface Entry {
  readonly contentHash: string;
  readonly certificates: readonly ServedCertificate[];
}

/**
 * The certificates currently served, per source, for the expiry gauge. A source is known either
 * because it was observed (its `current()` is read at once, so the gauge is right before any
 * rotation, and its `update` events are followed) or because a rotation was seen on the diagnostics
 * channel (then it is keyed by its name). Each source holds one entry, so a rotated-away leaf leaves
 * the gauge.
 *
 * @example
 * ```ts
 * const served = new ServedCertificates();
 * served.track(source, source.current());
 * served.list(); // [{ role: 'leaf', ... }, { role: 'root', ... }]
 * ```
 */
export class ServedCertificates {
  readonly #entries = new Map<unknown, Entry>();

  /** Records `material` as what `owner` (a source, or a source's name) serves now. */
  track(owner: unknown, material: TlsMaterial): void {
    const entry = { contentHash: material.contentHash, certificates: describe(material) };
    if (typeof owner === 'string' && !this.#entries.has(owner)) this.#makeRoomForName();
    this.#entries.set(owner, entry);
  }

  untrack(owner: unknown): void {
    this.#entries.delete(owner);
  }

  /** Follows an applied rotation seen on the diagnostics channel, keyed by the source's name. */
  rotated(material: TlsMaterial, sourceName: string): void {
    this.track(`source:${sourceName}`, material);
  }

  /**
   * Drops name-keyed entries that hold this material. An observed source publishes its rotation
   * on the channel just before its `update` event; the entry the channel message made is then a
   * duplicate, and would outlive the observation.
   */
  forgetNamed(contentHash: string): void {
    for (const [owner, entry] of this.#entries) {
      if (typeof owner === 'string' && entry.contentHash === contentHash) this.#entries.delete(owner);
    }
  }

  /** Every served certificate once, even when several sources serve it. */
  list(): ServedCertificate[] {
    const unique = new Map<string, ServedCertificate>();
    for (const entry of this.#entries.values()) {
      for (const cert of entry.certificates) unique.set(`${cert.role} ${cert.fingerprint256}`, cert);
    }
    return [...unique.values()];
  }

  #makeRoomForName(): void {
    const names = [...this.#entries.keys()].filter((key) => typeof key === 'string');
    if (names.length >= MAX_NAMED_SOURCES) this.#entries.delete(names[0]);
  }
}

function describe(material: TlsMaterial): ServedCertificate[] {
  return [
    describeOne(material.leaf, 'leaf'),
    ...(material.intermediates ?? []).map((cert) => describeOne(cert, 'intermediate')),
    // Federated trust bundles included: a root of a partner trust domain that expires cuts that partner off.
    ...trustedRoots(material).map((cert) => describeOne(cert, 'root')),
  ];
}

function describeOne(cert: X509Certificate, role: ServedCertificate['role']): ServedCertificate {
  return Object.freeze({
    role,
    // Node separates RDNs with newlines; the expiry events of @meshless/core use ', ' too.
    subject: (cert.subject ?? '').replace(/\n/g, ', '),
    serialNumber: cert.serialNumber.toUpperCase(),
    fingerprint256: cert.fingerprint256,
    notAfter: Date.parse(cert.validTo),
  });
}
