import { type ChainSummary, summarize } from '../certificates/chain-summary.js';
import { type CertificateView, describeCertificate } from '../certificates/describe.js';
import { readCertificateFile } from '../certificates/read.js';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { readInput } from '../files.js';
import type { Paint } from '../output/colour.js';
import { fields } from '../output/fields.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';

interface InspectOptions {
  json?: boolean;
}

/**
 * `meshless inspect FILE|-`: what is in a certificate, a chain or a bundle, with X509-SVID
 * conformance. It reports; it exits 1 only when the input cannot be read as certificates.
 *
 * @example
 * ```ts
 * registerInspect(program, context);
 * ```
 */
export const registerInspect: CommandRegistration = (program, context) => {
  program
    .command('inspect')
    .description('show what a certificate, chain or bundle holds, and whether it is a valid X509-SVID')
    .argument('<file>', 'a PEM file, or - for stdin')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      examples([
        'meshless inspect certs/web/tls.crt',
        'meshless inspect --json certs/web/ca.crt',
        "kubectl get secret web-tls -o jsonpath='{.data.tls\\.crt}' | base64 -d | meshless inspect -",
      ]),
    )
    .action(async (file: string, options: InspectOptions) => inspect(file, options, context));
};

async function inspect(file: string, options: InspectOptions, context: Context): Promise<void> {
  const { io, paint } = context;
  const source = file === '-' ? 'stdin' : file;
  const input = await readInput(file, 'cert', io.stdin);
  const { certificates, ignored } = readCertificateFile(input, 'cert', file === '-' ? undefined : file);
  const views = certificates.map((cert) => describeCertificate(cert));
  const summary = summarize(certificates);
  if (options.json) {
    writeJson(io.stdout, { ok: true, source, summary, ignoredBlocks: ignored, certificates: views });
    return;
  }
  io.stdout.write(fields([['file', `${source}: ${summaryText(summary, paint)}`]]));
  if (ignored.length > 0) io.stdout.write(fields([['skipped', `${ignored.join(', ')} block(s)`]]));
  views.forEach((view, index) => {
    io.stdout.write(`\ncertificate ${index + 1} of ${views.length}: ${view.role}\n`);
    io.stdout.write(certificateText(view, paint));
  });
}

function summaryText(summary: ChainSummary, paint: Paint): string {
  switch (summary.kind) {
    case 'certificate':
      return 'one certificate';
    case 'bundle':
      return `trust bundle of ${summary.count} root certificates`;
    case 'chain':
      return summary.ordered
        ? `chain of ${summary.count} certificates, each issued by the next ${mark('pass', paint)}`
        : `chain of ${summary.count} certificates ${mark('fail', paint)} ${summary.breaks
            .map((n) => `certificate ${n} is not issued by certificate ${n + 1}`)
            .join('; ')} (out of order, or an unrelated certificate)`;
  }
}

function list(values: readonly string[] | null, none = 'none'): string {
  if (values === null) return 'absent';
  return values.length > 0 ? values.join(', ') : none;
}

function certificateText(view: CertificateView, paint: Paint): string {
  const otherUris = view.uris.filter((uri) => uri !== view.spiffeId);
  return fields(
    [
      ['subject', view.subject],
      ['issuer', view.issuer],
      ['serial', view.serialNumber],
      ['fingerprint', `SHA256 ${view.fingerprint256}`],
      ['spiffe id', view.spiffeId ?? undefined],
      ['dns names', view.dnsNames.length > 0 ? view.dnsNames.join(', ') : undefined],
      ['ip addresses', view.ipAddresses.length > 0 ? view.ipAddresses.join(', ') : undefined],
      ['other uris', otherUris.length > 0 ? otherUris.join(', ') : undefined],
      ['not before', view.notBefore.toISOString()],
      ['not after', view.notAfter.toISOString()],
      ['validity', `${mark(view.valid ? 'pass' : 'fail', paint)} ${view.validity}`],
      ['key', view.key.text],
      ['signature', view.signatureAlgorithm],
      ['ca', view.isCa === null ? 'no basicConstraints' : view.isCa ? 'yes' : 'no'],
      ['key usage', list(view.keyUsage)],
      ['ext key usage', list(view.extendedKeyUsage)],
      ['x509-svid', svidText(view, paint)],
    ],
    '  ',
  );
}

function svidText(view: CertificateView, paint: Paint): string {
  const profile = view.svid.profile === 'leaf' ? 'leaf SVID' : 'signing certificate';
  if (view.svid.conforms) return `${mark('pass', paint)} conforms (${profile})`;
  const reasons = view.svid.failures.map((f) => `- ${f.reason} (${f.rule})`);
  return [`${mark('fail', paint)} does not conform (${profile}):`, ...reasons].join('\n');
}
