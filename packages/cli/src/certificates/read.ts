import { type CertificateFacts, certificateFacts, decodePem, MeshlessError } from '@meshless/core';

/** The certificates of one PEM input, and the labels of other blocks found beside them. */
export interface CertificateFile {
  certificates: CertificateFacts[];
  /** Labels of non-certificate blocks (a key or a CSR in the same file), which are not shown. */
  ignored: string[];
}

/**
 * Reads every certificate of a PEM input (a single certificate, a chain or a bundle), in order.
 * Other blocks are skipped and reported; an input with no certificate at all is
 * `ERR_MESHLESS_PEM_INVALID`.
 *
 * @example
 * ```ts
 * const { certificates } = readCertificateFile(await readInput('tls.crt', 'cert'), 'cert', 'tls.crt');
 * ```
 */
export function readCertificateFile(
  input: Uint8Array | string,
  inputName: string,
  file?: string,
): CertificateFile {
  const where = file ? `${inputName} (${file})` : inputName;
  const blocks = decodePem(input, inputName, file);
  const certificates: CertificateFacts[] = [];
  const ignored: string[] = [];
  for (const block of blocks) {
    if (block.label !== 'CERTIFICATE') {
      ignored.push(block.label);
      continue;
    }
    try {
      certificates.push(certificateFacts(block.der, block.pem));
    } catch (cause) {
      throw new MeshlessError(
        'ERR_MESHLESS_PEM_INVALID',
        `certificate ${certificates.length + 1} of ${where} is not valid X.509 DER`,
        { input: inputName, ...(file ? { file } : {}) },
        cause,
      );
    }
  }
  if (certificates.length === 0) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEM_INVALID',
      `${where} holds no CERTIFICATE block (found ${ignored.join(', ')})`,
      { input: inputName, ...(file ? { file } : {}), actual: ignored.join(', ') },
    );
  }
  return { certificates, ignored };
}
