import { assertKnownOptions, assertOptionsObject } from '@meshless/core';
import { readCsr } from './csr.js';
import type { SignedCertificate } from './issue.js';
import { signLeaf } from './issue.js';
import type { Issuer } from './issuer.js';
import { assertStrongKey } from './keys.js';
import { ttlOption } from './lifetime.js';
import { dnsNamesOption, ipAddressesOption } from './names.js';
import { workloadSpiffeId } from './spiffe.js';

/**
 * Options of {@link CertificateAuthority.signCsr}.
 *
 * @example
 * ```ts
 * const signed = await ca.signCsr(csrPem, { ttl: '1h', dnsNames: ['web.prod.svc'] });
 * ```
 */
export interface SignCsrOptions {
  /** Lifetime: milliseconds or a duration string. Default 24 hours, cut to the CA's remaining life. */
  ttl?: string | number;
  /** The DNS SANs to issue, instead of the ones the CSR asks for. */
  dnsNames?: string[];
  /** The IP SANs to issue, instead of the ones the CSR asks for. */
  ipAddresses?: string[];
}

/**
 * Signs a CSR with the leaf profile of `issue`: the SPIFFE ID comes from the CSR's SAN extension
 * request and must be in the CA's trust domain; DNS and IP names come from the CSR unless the
 * options replace them. The CSR's subject and any other requested extensions are ignored.
 */
export async function signRequest(
  issuer: Issuer,
  csrPem: string | Uint8Array,
  options: SignCsrOptions = {},
): Promise<SignedCertificate> {
  assertOptionsObject('signCsr', options);
  assertKnownOptions('signCsr', options, ['ttl', 'dnsNames', 'ipAddresses']);
  const ttlMs = ttlOption(options.ttl);
  const dnsNames = options.dnsNames === undefined ? undefined : dnsNamesOption(options.dnsNames);
  const ipAddresses = options.ipAddresses === undefined ? undefined : ipAddressesOption(options.ipAddresses);
  const request = await readCsr(csrPem);
  const spiffeId = workloadSpiffeId(request.spiffeId, issuer.trustDomain);
  assertStrongKey(request.publicKey, 'the public key of the CSR', {
    input: 'csr',
    spiffeId: spiffeId.toString(),
  });
  return signLeaf(issuer, {
    spiffeId,
    dnsNames: dnsNames ?? request.dnsNames,
    ipAddresses: ipAddresses ?? request.ipAddresses,
    ttlMs,
    publicKey: request.publicKey,
  });
}
