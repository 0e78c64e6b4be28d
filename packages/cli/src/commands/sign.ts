import { join } from 'node:path';
import { LAYOUT_FILES, loadCa } from '@meshless/pki';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { readInput, writeFileWithMode } from '../files.js';
import { expiryPhrase } from '../format/duration.js';
import { collect, durationArgument } from '../options.js';
import { fields } from '../output/fields.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';

interface SignCommandOptions {
  ca: string;
  csr: string;
  ttl: string;
  dns?: string[];
  ip?: string[];
  out?: string;
  json?: boolean;
}

/**
 * `meshless sign`: signs a CSR (from `meshless csr`, OpenSSL or any tool) with a saved CA, using the
 * X509-SVID workload profile.
 *
 * @example
 * ```ts
 * registerSign(program, context);
 * ```
 */
export const registerSign: CommandRegistration = (program, context) => {
  program
    .command('sign')
    .description('sign a certificate signing request with a CA made by `meshless ca create`')
    .requiredOption('--ca <dir>', 'the CA directory (ca.crt, ca.key, bundle.crt)')
    .requiredOption('--csr <file>', 'the PEM request, or - for stdin')
    .option('--ttl <duration>', "lifetime, cut to the CA's remaining life", durationArgument, '24h')
    .option('--dns <name>', 'DNS SANs to issue instead of those requested (repeatable)', collect)
    .option('--ip <address>', 'IP SANs to issue instead of those requested (repeatable)', collect)
    .option('--out <dir>', 'write tls.crt (the chain) and ca.crt there, instead of the chain to stdout')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      examples([
        'meshless sign --ca meshless-ca --csr certs/web/tls.csr --out certs/web',
        'meshless sign --ca meshless-ca --csr web.csr > web.crt',
        'openssl req -new -key tls.key -subj /CN=web -addext "subjectAltName=URI:spiffe://example.org/web" | meshless sign --ca meshless-ca --csr -',
      ]),
    )
    .action(async (options: SignCommandOptions) => sign(options, context));
};

async function sign(options: SignCommandOptions, context: Context): Promise<void> {
  const { io, paint } = context;
  const request = await readInput(options.csr, 'csr', io.stdin);
  const ca = await loadCa(options.ca);
  const signed = await ca.signCsr(request, {
    ttl: options.ttl,
    ...(options.dns ? { dnsNames: options.dns } : {}),
    ...(options.ip ? { ipAddresses: options.ip } : {}),
  });
  const names = LAYOUT_FILES['cert-manager'];
  const files = options.out
    ? { cert: join(options.out, names.cert), ca: join(options.out, names.ca) }
    : undefined;
  if (files) {
    await writeFileWithMode(files.ca, signed.caPem, 0o644);
    await writeFileWithMode(files.cert, signed.chainPem, 0o644);
  }
  if (options.json) {
    writeJson(io.stdout, {
      ok: true,
      spiffeId: signed.spiffeId,
      serialNumber: signed.serialNumber,
      notBefore: signed.notBefore,
      notAfter: signed.notAfter,
      ...(files ? { files } : { chainPem: signed.chainPem, caPem: signed.caPem }),
    });
    return;
  }
  if (!files) {
    // The chain alone on stdout, so `> tls.crt` gives a usable file.
    io.stdout.write(signed.chainPem);
    return;
  }
  io.stdout.write(`${mark('pass', paint)} signed ${signed.spiffeId}\n`);
  io.stdout.write(
    fields([
      ['certificate', `${files.cert} (the chain, leaf first)`],
      ['trust bundle', files.ca],
      ['serial', signed.serialNumber],
      ['not after', `${signed.notAfter.toISOString()} (${expiryPhrase(signed.notBefore, signed.notAfter)})`],
    ]),
  );
}
