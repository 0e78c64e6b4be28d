import { join } from 'node:path';
import { createCsr, KEY_ALGORITHMS, type KeyAlgorithm } from '@meshless/pki';
import { Option } from 'commander';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { writeFileWithMode } from '../files.js';
import { collect, spiffeIdArgument } from '../options.js';
import { fields } from '../output/fields.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';

/** The file names `meshless csr` writes, chosen so `meshless sign --out` completes a cert-manager layout. */
export const CSR_FILES = Object.freeze({ csr: 'tls.csr', key: 'tls.key' });

interface CsrCommandOptions {
  spiffeId: string;
  dns?: string[];
  ip?: string[];
  key?: KeyAlgorithm;
  out: string;
  json?: boolean;
}

/**
 * `meshless csr`: a key (kept, mode 0600) and a PKCS#10 request for an external CA or `meshless sign`.
 *
 * @example
 * ```ts
 * registerCsr(program, context);
 * ```
 */
export const registerCsr: CommandRegistration = (program, context) => {
  program
    .command('csr')
    .description(
      'make a private key and a certificate signing request (for an external CA, or `meshless sign`)',
    )
    .requiredOption('--spiffe-id <id>', 'the workload SPIFFE ID to request', spiffeIdArgument)
    .option('--dns <name>', 'a DNS SAN to request (repeatable)', collect)
    .option('--ip <address>', 'an IP SAN to request (repeatable)', collect)
    .addOption(new Option('--key <algorithm>', 'key algorithm').choices(KEY_ALGORITHMS).default('ecdsa-p256'))
    .requiredOption('--out <dir>', `directory for ${CSR_FILES.csr} and ${CSR_FILES.key} (mode 0600)`)
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      examples([
        'meshless csr --spiffe-id spiffe://example.org/ns/prod/sa/web --dns web.local --out certs/web',
        'meshless sign --ca meshless-ca --csr certs/web/tls.csr --out certs/web',
      ]),
    )
    .action(async (options: CsrCommandOptions) => csr(options, context));
};

async function csr(options: CsrCommandOptions, context: Context): Promise<void> {
  const { csrPem, keyPem } = await createCsr({
    spiffeId: options.spiffeId,
    dnsNames: options.dns ?? [],
    ipAddresses: options.ip ?? [],
    ...(options.key ? { keyAlgorithm: options.key } : {}),
  });
  const files = { csr: join(options.out, CSR_FILES.csr), key: join(options.out, CSR_FILES.key) };
  // The key first: a CSR without its key is useless, a key without a CSR can be requested again.
  await writeFileWithMode(files.key, keyPem, 0o600);
  await writeFileWithMode(files.csr, csrPem, 0o644);
  const { io, paint } = context;
  if (options.json) {
    writeJson(io.stdout, { ok: true, spiffeId: options.spiffeId, files });
    return;
  }
  io.stdout.write(`${mark('pass', paint)} made a request for ${options.spiffeId}\n`);
  io.stdout.write(
    fields([
      ['request', files.csr],
      ['key', `${files.key} (mode 0600, stays with the workload)`],
    ]),
  );
  io.stdout.write(`\nnext: meshless sign --ca CA_DIR --csr ${files.csr} --out ${options.out}\n`);
}
