import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTrustDomain } from '@meshless/core';
import { CA_FILES, createCa, KEY_ALGORITHMS, type KeyAlgorithm } from '@meshless/pki';
import { InvalidArgumentError, Option } from 'commander';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { usageError } from '../errors.js';
import { expiryPhrase } from '../format/duration.js';
import { durationArgument } from '../options.js';
import { fields } from '../output/fields.js';
import { writeJson } from '../output/json.js';
import { mark } from '../output/marks.js';

interface CaCreateOptions {
  trustDomain: string;
  out: string;
  ttl: string;
  key: KeyAlgorithm;
  force?: boolean;
  json?: boolean;
}

/**
 * `meshless ca create`: a root CA for a trust domain, saved as `ca.crt`, `ca.key` (0600) and
 * `bundle.crt`.
 *
 * @example
 * ```ts
 * registerCa(program, context); // adds `ca` and `ca create`
 * ```
 */
export const registerCa: CommandRegistration = (program, context) => {
  const ca = program
    .command('ca')
    .description('manage a development/bootstrap certificate authority')
    .addHelpText('after', examples(['meshless ca create --trust-domain example.org']));
  ca.command('create')
    .description('create a root CA for a SPIFFE trust domain (development and bootstrap only)')
    .requiredOption(
      '--trust-domain <name>',
      'the SPIFFE trust domain, such as example.org',
      trustDomainArgument,
    )
    .option('--out <dir>', 'directory for ca.crt, ca.key (mode 0600) and bundle.crt', 'meshless-ca')
    .option('--ttl <duration>', 'lifetime of the CA (h, d, m, s units)', durationArgument, '8760h')
    .addOption(
      new Option('--key <algorithm>', 'key algorithm of the CA (workloads default to it)')
        .choices(KEY_ALGORITHMS)
        .default('ecdsa-p256'),
    )
    .option('--force', 'replace a CA that already exists in --out (everything it issued stops verifying)')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      examples([
        'meshless ca create --trust-domain example.org',
        'meshless ca create --trust-domain example.org --out ./dev-ca --ttl 720h --key ed25519',
      ]),
    )
    .action(async (options: CaCreateOptions) => caCreate(options, context));
};

function trustDomainArgument(value: string): string {
  try {
    return parseTrustDomain(value).name;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

async function caCreate(options: CaCreateOptions, context: Context): Promise<void> {
  const keyFile = join(options.out, CA_FILES.key);
  if (!options.force && (await exists(keyFile))) {
    throw usageError(
      `${options.out} already holds a CA (${keyFile}); pass --force to replace it or choose another --out`,
    );
  }
  const ca = await createCa({
    trustDomain: options.trustDomain,
    ttl: options.ttl,
    keyAlgorithm: options.key,
  });
  const files = await ca.save(options.out);
  const { io, paint } = context;
  if (options.json) {
    writeJson(io.stdout, {
      ok: true,
      trustDomain: ca.trustDomain.name,
      files,
      subject: ca.subject,
      serialNumber: ca.serialNumber,
      keyAlgorithm: ca.keyAlgorithm,
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
    });
    return;
  }
  io.stdout.write(`${mark('pass', paint)} created a root CA for trust domain ${ca.trustDomain.name}\n`);
  io.stdout.write(
    fields([
      ['certificate', files.cert],
      ['key', `${files.key} (mode 0600, keep it secret)`],
      ['bundle', `${files.bundle} (the trust bundle to give every workload)`],
      ['subject', ca.subject],
      ['key type', ca.keyAlgorithm],
      ['not after', `${ca.notAfter.toISOString()} (${expiryPhrase(ca.notBefore, ca.notAfter)})`],
    ]),
  );
  io.stdout.write(
    `\nnext: meshless issue --ca ${options.out} --spiffe-id spiffe://${ca.trustDomain.name}/ns/default/sa/web\n`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
