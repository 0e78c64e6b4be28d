import { MeshlessError, type MeshlessErrorCode } from '@meshless/core';
import { anyFailed } from '../checks/check.js';
import { detectLayout } from '../checks/layout.js';
import { checkMaterial } from '../checks/material.js';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { plural } from '../format/plural.js';
import { readMaterialFile } from '../material-input.js';
import { checkLines } from '../output/checks.js';
import { failureLine } from '../output/failure.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';
import { passphraseFrom } from '../passphrase.js';

interface VerifyOptions {
  dir?: string;
  cert?: string;
  key?: string;
  ca?: string;
  passphraseEnv?: string;
  json?: boolean;
}

/**
 * `meshless verify`: every check `loadMaterial` makes, each with a mark and, on failure, its code.
 * Exit 0 when the material is valid, 1 when a check fails.
 *
 * @example
 * ```ts
 * registerVerify(program, context);
 * ```
 */
export const registerVerify: CommandRegistration = (program, context) => {
  program
    .command('verify')
    .description('check a certificate, key and trust bundle the way meshless loads them')
    .option('--dir <dir>', 'a directory in the cert-manager or spiffe-helper layout, as doctor --dir')
    .option('--cert <file>', 'the certificate chain, leaf first (tls.crt; overrides the one in --dir)')
    .option('--key <file>', 'the private key of the leaf (tls.key; overrides the one in --dir)')
    .option('--ca <file>', 'the trust bundle (ca.crt; overrides the one in --dir)')
    .option(
      '--passphrase-env <name>',
      'read the passphrase of an encrypted key from this environment variable',
    )
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      examples(
        [
          'meshless verify --cert certs/web/tls.crt --key certs/web/tls.key --ca certs/web/ca.crt',
          'meshless verify --dir certs/web',
          'meshless verify --json --cert svid.pem --key svid_key.pem --ca svid_bundle.pem | jq .checks',
        ],
        'Exit status: 0 valid, 1 a check failed, 2 usage error.',
      ),
    )
    .action(async (options: VerifyOptions) => verify(options, context));
};

async function verify(options: VerifyOptions, context: Context): Promise<void> {
  const { io, paint } = context;
  const files = await filesOf(options);
  const [cert, key, ca] = await Promise.all([
    readMaterialFile(files.cert, 'cert'),
    readMaterialFile(files.key, 'key'),
    readMaterialFile(files.ca, 'ca'),
  ]);
  const passphrase = passphraseFrom(options.passphraseEnv, io.env);
  const report = checkMaterial({ cert, key, ca, ...(passphrase ? { passphrase } : {}) });
  const ok = !anyFailed(report.checks);
  if (!ok) context.exitCode = EXIT.failed;
  if (options.json) {
    writeJson(io.stdout, { ok, checks: report.checks, identity: report.identity ?? null });
  } else {
    io.stdout.write(checkLines(report.checks, paint));
    const id = report.identity?.spiffeId?.toString() ?? report.identity?.subject;
    io.stdout.write(
      ok
        ? `\n${mark('pass', paint)} valid: ${id}\n`
        : `\n${mark('fail', paint)} invalid: ${plural(report.checks.filter((c) => c.outcome === 'fail').length, 'check')} failed\n`,
    );
  }
  if (!ok) io.stderr.write(failureLine(report.checks, 'the material is invalid'));
}

/** The three files: from --cert, --key and --ca, or found in --dir (each overridable). */
async function filesOf(options: VerifyOptions): Promise<{ cert: string; key: string; ca: string }> {
  if (!options.dir) {
    if (options.cert && options.key && options.ca)
      return { cert: options.cert, key: options.key, ca: options.ca };
    throw usageError('give --dir DIR, or all of --cert, --key and --ca');
  }
  const found = await detectLayout(options.dir);
  const cert = options.cert ?? found.files?.cert;
  const key = options.key ?? found.files?.key;
  const ca = options.ca ?? found.files?.ca;
  if (!cert || !key || !ca) {
    // Exit 1, as doctor: the command was right, the directory is not.
    const code = (found.check.code ?? 'ERR_MESHLESS_LAYOUT_UNKNOWN') as MeshlessErrorCode;
    throw new MeshlessError(code, `${found.check.detail}; or give --cert, --key and --ca`, {
      file: options.dir,
    });
  }
  return { cert, key, ca };
}
