import { Option } from 'commander';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { errorLine, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { readInput } from '../files.js';
import { durationMsArgument, spiffeIdArgument } from '../options.js';
import type { Paint } from '../output/colour.js';
import { fields } from '../output/fields.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';
import { passphraseFrom } from '../passphrase.js';
import { readClientIdentity } from '../probe/client-identity.js';
import { type ProbeReport, runProbe } from '../probe/run-probe.js';
import { parseTarget } from '../probe/target.js';

interface ProbeCommandOptions {
  cert?: string;
  key?: string;
  ca?: string;
  expectId?: string;
  timeout: number;
  passphraseEnv?: string;
  json?: boolean;
}

/**
 * `meshless probe https://HOST:PORT`: connects like a meshless client and reports the TLS version,
 * cipher, the server's chain and identity, handshake time, session resumption and whether the
 * server demands a client certificate. Exit 1 with a clear reason when the connection fails.
 *
 * @example
 * ```ts
 * registerProbe(program, context);
 * ```
 */
export const registerProbe: CommandRegistration = (program, context) => {
  program
    .command('probe')
    .description('connect to a TLS server as a meshless client would, and report what happened')
    .argument('<url>', 'https://HOST:PORT[/path]')
    .option('--cert <file>', 'the client certificate chain to present (tls.crt)')
    .option('--key <file>', 'the private key of the client certificate (tls.key)')
    .option('--ca <file>', 'the trust bundle to verify the server with (default: the system roots)')
    .option('--expect-id <id>', "check the server's SPIFFE ID instead of its host name", spiffeIdArgument)
    .addOption(
      new Option('--timeout <duration>', 'how long each connection may take')
        .argParser(durationMsArgument)
        .default(10_000, '10s'),
    )
    .option(
      '--passphrase-env <name>',
      'read the passphrase of an encrypted key from this environment variable',
    )
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      examples(
        [
          'meshless probe https://127.0.0.1:8443 --cert tls.crt --key tls.key --ca ca.crt --expect-id spiffe://example.org/ns/prod/sa/api',
          'meshless probe https://api.internal:443/healthz --ca ca.crt',
          'meshless probe https://127.0.0.1:8443 --cert tls.crt --key tls.key --ca ca.crt --json | jq .clientCertificate',
        ],
        'Exit status: 0 connected, 1 the probe failed (the reason is on stderr), 2 usage error,\n3 authenticated but not authorized (mutual TLS worked; the server answered 403).',
      ),
    )
    .action(async (url: string, options: ProbeCommandOptions) => probe(url, options, context));
};

async function probe(url: string, options: ProbeCommandOptions, context: Context): Promise<void> {
  const { io, paint } = context;
  const target = parseTarget(url);
  if ((options.cert === undefined) !== (options.key === undefined))
    throw usageError('--cert and --key go together');
  const passphrase = passphraseFrom(options.passphraseEnv, io.env);
  const client =
    options.cert && options.key ? await readClientIdentity(options.cert, options.key, passphrase) : undefined;
  const ca = options.ca
    ? { file: options.ca, pem: (await readInput(options.ca, 'ca')).toString('latin1') }
    : undefined;
  const report = await runProbe({
    target,
    timeoutMs: options.timeout,
    ...(ca ? { ca } : {}),
    ...(client ? { client } : {}),
    ...(options.expectId ? { expectId: options.expectId } : {}),
  });
  const denied = report.ok && isForbidden(report.http);
  if (!report.ok) context.exitCode = EXIT.failed;
  else if (denied) context.exitCode = EXIT.denied;
  if (options.json) writeJson(io.stdout, report);
  else io.stdout.write(reportText(report, paint));
  // The reason goes to stderr once; the text report on stdout only marks the outcome.
  if (report.error) io.stderr.write(`${errorLine(report.error)}\n`);
  else if (denied) io.stderr.write(`meshless: ${DENIED} (exit ${EXIT.denied})\n`);
}

const DENIED =
  'authenticated but not authorized: mutual TLS worked and the server knows who we are, but its authorizer denied our identity (HTTP 403)';

function isForbidden(http: ProbeReport['http']): boolean {
  return /^HTTP\/\S+ 403\b/.test(http?.status ?? '');
}

function httpText(http: NonNullable<ProbeReport['http']>): string | undefined {
  if (!http.status) return http.note ?? undefined;
  // A meshless server answers 401/403 after a verified handshake: TLS worked, authorization did not.
  if (/^HTTP\/\S+ 403\b/.test(http.status))
    return `${http.status} (TLS is fine; the server's authorizer denied our identity)`;
  if (/^HTTP\/\S+ 401\b/.test(http.status))
    return `${http.status} (the server saw no verified client certificate)`;
  return http.status;
}

function reportText(report: ProbeReport, paint: Paint): string {
  const { tls, server, verification, http, resumption, clientCertificate, error } = report;
  const chain = server?.chain
    .map((c, i) => `${i} "${c.subject}"${c.spiffeId ? ` ${c.spiffeId}` : ''}, ${c.validity}`)
    .join('\n');
  const verified =
    verification.by === 'spiffe-id'
      ? `SPIFFE ID ${verification.expected}`
      : `host name ${verification.expected}`;
  const verificationText = error
    ? undefined
    : `${mark('pass', paint)} chain verified against ${verification.trustBundle}; ${verified} ${verification.by === 'spiffe-id' ? 'matches --expect-id' : 'matches'}`;
  const yesNo = (value: boolean | null | undefined) =>
    value === true ? mark('pass', paint) : value === false ? mark('fail', paint) : mark('warn', paint);
  const demanded = (value: boolean | null) =>
    value === true ? mark('pass', paint) : value === false ? mark('warn', paint) : mark('skip', paint);
  let text = fields([
    ['target', report.target],
    ['tls', tls ? `${tls.version}, ${tls.cipher}` : undefined],
    [
      'handshake',
      tls?.handshakeMs != null ? `${tls.handshakeMs} ms (TCP connect ${tls.connectMs ?? '?'} ms)` : undefined,
    ],
    ['server id', server ? (server.spiffeId ?? `no SPIFFE ID (${server.subject})`) : undefined],
    [
      'server cert',
      server?.serialNumber ? `serial ${server.serialNumber}, SHA-256 ${server.fingerprint256}` : undefined,
    ],
    ['server chain', chain],
    ['verification', verificationText],
    ['http', http ? httpText(http) : undefined],
    ['resumption', resumption ? `${yesNo(resumption.resumed)} ${resumption.note}` : undefined],
    [
      'client cert',
      clientCertificate
        ? `${demanded(clientCertificate.demanded)} ${clientCertificate.note}${
            clientCertificate.presented ? `\npresented ${clientCertificate.presented}` : ''
          }`
        : undefined,
    ],
  ]);
  text += error
    ? `\n${mark('fail', paint)} probe failed (${error.code})\n`
    : isForbidden(http)
      ? `\n${mark('fail', paint)} connected and authenticated, but not authorized (HTTP 403)\n`
      : `\n${mark('pass', paint)} connected\n`;
  return text;
}
