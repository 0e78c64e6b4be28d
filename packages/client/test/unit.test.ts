// The pieces of the connector on their own: the session cache, the server identity lookup and the
// error translation.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { identityFromCertificate, isMeshlessError, type PeerIdentity } from '@meshless/core';
import { describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot } from '../../../test/support/certs.js';
import { serverIdentity } from '../src/server-identity.js';
import { SessionCache, sessionKey } from '../src/session-cache.js';
import { isConnectionClosed, silentRejection, toMeshlessError } from '../src/tls-errors.js';

function identity(notAfter: Date): PeerIdentity {
  return { notAfter, fingerprint256: 'AA' } as unknown as PeerIdentity;
}
const future = new Date(Date.now() + 60_000);
/** A verdict whose chain is valid until `notAfter`. */
const verdictUntil = (notAfter: Date) => ({
  fingerprint256: 'AA',
  trust: 'trust',
  notBefore: 0,
  notAfter: notAfter.getTime(),
});

describe('SessionCache', () => {
  it('keys sessions by address, port and server name', () => {
    expect(sessionKey('10.0.0.7', 8443, undefined)).not.toBe(sessionKey('10.0.0.7', 8444, undefined));
    expect(sessionKey('10.0.0.7', 8443, 'a.test')).not.toBe(sessionKey('10.0.0.7', 8443, 'b.test'));
  });

  it('drops a session whose server certificate has expired instead of offering it', () => {
    const cache = new SessionCache(4);
    const past = new Date(Date.now() - 1);
    cache.set('k', { session: Buffer.from('s'), identity: identity(past), verdict: verdictUntil(past) });
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest key when full, and stores nothing with a size of 0', () => {
    const cache = new SessionCache(2);
    for (const key of ['a', 'b', 'c'])
      cache.set(key, {
        session: Buffer.from(key),
        identity: identity(future),
        verdict: verdictUntil(future),
      });
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')?.session.toString()).toBe('c');
    const none = new SessionCache(0);
    none.set('a', { session: Buffer.from('a'), identity: identity(future), verdict: verdictUntil(future) });
    expect(none.size).toBe(0);
  });
});

describe('serverIdentity', () => {
  /** What getPeerCertificate() gives checkServerIdentity, as far as serverIdentity reads it. */
  async function peerCertificate(spiffeId: string): Promise<PeerCertificate> {
    const root = await makeRoot();
    const leaf = new X509Certificate((await makeLeaf(root, { uris: [spiffeId] })).certPem);
    return { raw: leaf.raw, fingerprint256: leaf.fingerprint256 } as PeerCertificate;
  }

  it('reads the identity from the DER, as core does, and gives the same identity again', async () => {
    const cert = await peerCertificate('spiffe://example.org/ns/prod/sa/orders');
    const first = serverIdentity(cert);
    expect(first).toBe(identityFromCertificate(cert.raw));
    expect(first.spiffeId?.toString()).toBe('spiffe://example.org/ns/prod/sa/orders');
    expect(first.fingerprint256).toBe(cert.fingerprint256);
    expect(serverIdentity({ ...cert })).toBe(first);
  });

  it("never files an identity under a fingerprint that is not its certificate's", async () => {
    const orders = await peerCertificate('spiffe://example.org/ns/prod/sa/orders');
    const billing = await peerCertificate('spiffe://example.org/ns/prod/sa/billing');
    // An object whose fingerprint does not belong to its DER: the identity is still the DER's...
    const mismatched = { raw: orders.raw, fingerprint256: billing.fingerprint256 } as PeerCertificate;
    expect(serverIdentity(mismatched).spiffeId?.toString()).toBe('spiffe://example.org/ns/prod/sa/orders');
    // ...and the certificate that owns the fingerprint is still seen as itself.
    expect(serverIdentity(billing).spiffeId?.toString()).toBe('spiffe://example.org/ns/prod/sa/billing');
  });
});

describe('toMeshlessError', () => {
  const where = { address: '10.0.0.7:8443' };
  const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_MESHLESS_SERVER_CERT_UNTRUSTED'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_MESHLESS_SERVER_CERT_UNTRUSTED'],
    ['CERT_HAS_EXPIRED', 'ERR_MESHLESS_SERVER_CERT_UNTRUSTED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_MESHLESS_SERVER_NAME_MISMATCH'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_MESHLESS_CLIENT_CERT_REJECTED'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_MESHLESS_CLIENT_CERT_REJECTED'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_MESHLESS_CLIENT_CERT_REJECTED'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'ERR_MESHLESS_CLIENT_CERT_REJECTED'],
    // OpenSSL 3.5 (Node 22, 24, 26) spells the alerts of RFC 5246 "ssl/tls alert ...".
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'ERR_MESHLESS_CLIENT_CERT_REJECTED'],
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED', 'ERR_MESHLESS_CLIENT_CERT_REJECTED'],
    ['ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', 'ERR_MESHLESS_TLS_HANDSHAKE_FAILED'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_MESHLESS_TLS_HANDSHAKE_FAILED'],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_MESHLESS_TLS_HANDSHAKE_FAILED'],
    ['ECONNRESET', 'ERR_MESHLESS_TLS_HANDSHAKE_FAILED'],
  ])('maps %s during the handshake to %s, keeping the original as cause', (code, expected) => {
    const original = withCode(code);
    const mapped = toMeshlessError(original, where, 'handshake');
    expect(isMeshlessError(mapped, expected as never)).toBe(true);
    expect(mapped.cause).toBe(original);
    expect(mapped.message).toContain(where.address);
  });

  it('names the alert of a refused client certificate', () => {
    const mapped = toMeshlessError(withCode('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), where, 'established');
    expect(isMeshlessError(mapped) && mapped.context.alert).toBe('unknown_ca');
    expect(mapped.message).toContain('unknown_ca');
  });

  it('leaves plain network errors after the handshake as they are', () => {
    const reset = withCode('ECONNRESET');
    expect(toMeshlessError(reset, where, 'established')).toBe(reset);
    expect(isConnectionClosed(reset)).toBe(true);
    expect(isConnectionClosed(withCode('UND_ERR_SOCKET'))).toBe(true);
    expect(isConnectionClosed(withCode('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'))).toBe(false);
    expect(silentRejection(reset, where).code).toBe('ERR_MESHLESS_CLIENT_CERT_REJECTED');
  });
});
