import { X509Certificate } from 'node:crypto';
import { decodePem, MeshlessError, readPrivateKey } from '@meshless/core';
import { readInput } from '../files.js';

/** The certificate and key the probe presents, checked to belong together. */
export interface ClientIdentity {
  certPem: string;
  keyPem: string;
  leaf: X509Certificate;
}

/**
 * Reads the client certificate chain and key for the probe and checks that the key belongs to
 * the leaf, so a mix-up is reported as such rather than as a handshake failure.
 *
 * @example
 * ```ts
 * const client = await readClientIdentity('certs/client/tls.crt', 'certs/client/tls.key');
 * ```
 */
export async function readClientIdentity(
  certFile: string,
  keyFile: string,
  passphrase?: string,
): Promise<ClientIdentity> {
  const [certData, keyData] = await Promise.all([readInput(certFile, 'cert'), readInput(keyFile, 'key')]);
  const blocks = decodePem(certData, 'cert', certFile).filter((b) => b.label === 'CERTIFICATE');
  const first = blocks[0];
  if (!first) {
    throw new MeshlessError('ERR_MESHLESS_PEM_INVALID', `cert (${certFile}) holds no CERTIFICATE block`, {
      input: 'cert',
      file: certFile,
    });
  }
  const leaf = new X509Certificate(first.der);
  const key = readPrivateKey(keyData, { file: keyFile, ...(passphrase ? { passphrase } : {}) });
  if (!leaf.checkPrivateKey(key)) {
    throw new MeshlessError(
      'ERR_MESHLESS_KEY_MISMATCH',
      `key (${keyFile}) does not belong to the certificate "${(leaf.subject ?? '').replace(/\n/g, ', ')}" in cert (${certFile})`,
      { input: 'key', file: keyFile },
    );
  }
  return {
    certPem: blocks.map((b) => b.pem).join(''),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    leaf,
  };
}
