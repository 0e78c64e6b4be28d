import { existsSync } from 'node:fs';
import { anyFailed, type Check } from '../checks/check.js';
import { checkExpiry, type NamedCertificate } from '../checks/expiry.js';
import { withFixes } from '../checks/fixes.js';
import { detectLayout } from '../checks/layout.js';
import { checkMaterial } from '../checks/material.js';
import { checkKeyPermissions } from '../checks/permissions.js';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { plural } from '../format/plural.js';
import { readMaterialFile } from '../material-input.js';
import { durationMsArgument } from '../options.js';
import { checkLines } from '../output/checks.js';
import { failureLine } from '../output/failure.js';
import { fields } from '../output/fields.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';
import { passphraseFrom } from '../passphrase.js';

interface DoctorOptions {
  dir?: string;
  cert?: string;
  key?: string;
  ca?: string;
  warnWithin?: number;
  passphraseEnv?: string;
  json?: boolean;
}

/**
 * `meshless doctor`: diagnoses a directory (or three files) the way a workload will read it:
 * layout, key permissions, every material check, expiry against thresholds, and the fix for each
 * problem. Exit 1 when any problem is found.
 *
 * @example
 * ```ts
 * registerDoctor(program, context);
 * ```
 */
export const registerDoctor: CommandRegistration = (program, context) => {
  program
    .command('doctor')
    .description('diagnose the TLS files of a workload and say how to fix each problem')
    .option(
      '--dir <dir>',
      'a directory in the cert-manager or spiffe-helper layout (a Kubernetes secret volume too)',
    )
    .option('--cert <file>', 'the certificate chain (instead of, or overriding, the one in --dir)')
    .option('--key <file>', 'the private key (instead of, or overriding, the one in --dir)')
    .option('--ca <file>', 'the trust bundle (instead of, or overriding, the one in --dir)')
    .option(
      '--warn-within <duration>',
      "flag certificates expiring within this time (default: a third of each one's lifetime)",
      durationMsArgument,
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
          'meshless doctor --dir /var/run/secrets/tls',
          'meshless doctor --dir ./certs/api --warn-within 72h',
          'meshless doctor --cert tls.crt --key tls.key --ca ca.crt --json',
        ],
        'Exit status: 0 no problem found, 1 a problem found, 2 usage error.',
      ),
    )
    .action(async (options: DoctorOptions) => doctor(options, context));
};

async function doctor(options: DoctorOptions, context: Context): Promise<void> {
  const { io, paint } = context;
  if (!options.dir && !(options.cert && options.key && options.ca))
    throw usageError('give --dir DIR, or all of --cert, --key and --ca');
  const passphrase = passphraseFrom(options.passphraseEnv, io.env);

  const checks: Check[] = [];
  let files = { cert: options.cert, key: options.key, ca: options.ca };
  let layout: string | undefined;
  if (options.dir) {
    const found = await detectLayout(options.dir);
    checks.push(found.check);
    layout = found.layout;
    files = {
      cert: options.cert ?? found.files?.cert,
      key: options.key ?? found.files?.key,
      ca: options.ca ?? found.files?.ca,
    };
  }
  const { cert, key, ca } = files;
  let identity: string | undefined;
  if (cert && key && ca) {
    checks.push(await checkKeyPermissions(key));
    const report = checkMaterial({
      cert: await readMaterialFile(cert, 'cert'),
      key: await readMaterialFile(key, 'key'),
      ca: await readMaterialFile(ca, 'ca'),
      ...(passphrase ? { passphrase } : {}),
    });
    checks.push(...report.checks);
    const named: NamedCertificate[] = [
      ...(report.chain ?? []).map((c, i) => ({ name: i === 0 ? 'leaf' : 'intermediate', cert: c })),
      ...(report.bundle ?? []).map((c) => ({ name: 'root', cert: c })),
    ];
    if (named.length > 0)
      checks.push(
        checkExpiry(named, options.warnWithin === undefined ? {} : { warnWithinMs: options.warnWithin }),
      );
    identity = report.identity?.spiffeId?.toString() ?? report.identity?.subject;
  }

  const final = withFixes(checks).map((check) =>
    // A cert-manager secret from an ACME issuer has no ca.crt: say so rather than "unreadable".
    check.id === 'ca-pem' &&
    check.code === 'ERR_MESHLESS_FILE_UNREADABLE' &&
    layout === 'cert-manager' &&
    ca &&
    !existsSync(ca)
      ? {
          ...check,
          fix: 'this secret has no ca.crt (ACME and some external issuers do not set it): pass the issuer root with --ca FILE, or use an issuer that fills ca.crt',
        }
      : check,
  );
  const problems = final.filter((check) => check.outcome === 'fail').length;
  if (anyFailed(final)) context.exitCode = EXIT.failed;

  if (options.json) {
    writeJson(io.stdout, {
      ok: problems === 0,
      problems,
      layout: layout ?? null,
      files,
      identity: identity ?? null,
      checks: final,
    });
  } else {
    io.stdout.write(
      fields([
        ['directory', options.dir],
        ['certificate', cert],
        ['key', key],
        ['trust bundle', ca],
      ]),
    );
    io.stdout.write('\n');
    io.stdout.write(checkLines(final, paint));
    io.stdout.write(
      problems === 0
        ? `\n${mark('pass', paint)} no problems found${identity ? `: ${identity}` : ''}\n`
        : `\n${mark('fail', paint)} ${plural(problems, 'problem')} found\n`,
    );
  }
  if (problems > 0) io.stderr.write(failureLine(final, `${plural(problems, 'problem')} found`));
}
