import { KEY_ALGORITHMS, type KeyAlgorithm, type Layout, loadCa, writeLayout } from '@meshless/pki';
import { Option } from 'commander';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { expiryPhrase } from '../format/duration.js';
import { collect, durationArgument, spiffeIdArgument } from '../options.js';
import { fields } from '../output/fields.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';

interface IssueCommandOptions {
  ca: string;
  spiffeId: string;
  dns?: string[];
  ip?: string[];
  ttl: string;
  key?: KeyAlgorithm;
  out: string;
  layout: Layout;
  json?: boolean;
}

/**
 * `meshless issue`: a workload certificate (X509-SVID) from a saved CA, written in the cert-manager
 * or spiffe-helper layout with the key at mode 0600.
 *
 * @example
 * ```ts
 * registerIssue(program, context);
 * ```
 */
export const registerIssue: CommandRegistration = (program, context) => {
  program
    .command('issue')
    .description('issue a workload certificate (X509-SVID) from a CA made by `meshless ca create`')
    .requiredOption('--ca <dir>', 'the CA directory (ca.crt, ca.key, bundle.crt)')
    .requiredOption('--spiffe-id <id>', "the workload SPIFFE ID, in the CA's trust domain", spiffeIdArgument)
    .option('--dns <name>', 'a DNS SAN (repeatable)', collect)
    .option('--ip <address>', 'an IP SAN, IPv4 or IPv6 (repeatable)', collect)
    .option('--ttl <duration>', "lifetime, cut to the CA's remaining life", durationArgument, '24h')
    .addOption(new Option('--key <algorithm>', "key algorithm (default: the CA's)").choices(KEY_ALGORITHMS))
    .option('--out <dir>', 'directory to write the files to', '.')
    .addOption(
      new Option(
        '--layout <layout>',
        'file names: tls.crt/tls.key/ca.crt or svid.pem/svid_key.pem/svid_bundle.pem',
      )
        .choices(['cert-manager', 'spiffe-helper'])
        .default('cert-manager'),
    )
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      examples([
        'meshless issue --ca meshless-ca --spiffe-id spiffe://example.org/ns/prod/sa/web --dns web.local --ip 127.0.0.1 --out certs/web',
        'meshless issue --ca meshless-ca --spiffe-id spiffe://example.org/ns/prod/sa/api --layout spiffe-helper --ttl 1h --out certs/api',
      ]),
    )
    .action(async (options: IssueCommandOptions) => issue(options, context));
};

async function issue(options: IssueCommandOptions, context: Context): Promise<void> {
  const dns = options.dns ?? [];
  const ip = options.ip ?? [];
  const ca = await loadCa(options.ca);
  const issued = await ca.issue({
    spiffeId: options.spiffeId,
    dnsNames: dns,
    ipAddresses: ip,
    ttl: options.ttl,
    ...(options.key ? { keyAlgorithm: options.key } : {}),
  });
  const files = await writeLayout(options.out, issued, options.layout);
  const { io, paint } = context;
  if (options.json) {
    writeJson(io.stdout, {
      ok: true,
      spiffeId: issued.spiffeId,
      dnsNames: dns,
      ipAddresses: ip,
      layout: options.layout,
      files,
      serialNumber: issued.serialNumber,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    });
    return;
  }
  io.stdout.write(`${mark('pass', paint)} issued ${issued.spiffeId}\n`);
  io.stdout.write(
    fields([
      ['certificate', `${files.cert} (the chain, leaf first)`],
      ['key', `${files.key} (mode 0600)`],
      ['trust bundle', files.ca],
      ['layout', options.layout],
      ['dns names', dns.length > 0 ? dns.join(', ') : undefined],
      ['ip addresses', ip.length > 0 ? ip.join(', ') : undefined],
      ['serial', issued.serialNumber],
      ['not after', `${issued.notAfter.toISOString()} (${expiryPhrase(issued.notBefore, issued.notAfter)})`],
    ]),
  );
}
