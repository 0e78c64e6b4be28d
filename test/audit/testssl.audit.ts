// The TLS configuration audit: testssl.sh (Debian package testssl.sh) against strict meshless
// servers, one with an ECDSA P-256 and one with an RSA-2048 certificate from @meshless/pki. It fails
// unless: no SSLv2, SSLv3, TLS 1.0 or 1.1; no NULL, export, LOW, RC4, 3DES or CBC ciphers; every
// cipher has ECDHE key exchange (forward secrecy only) and AEAD encryption; nothing flagged
// vulnerable or rated LOW and above. Then it writes its summary, with the date and versions, into
// docs/security.md between the audit markers.
//
// Run: npm run audit:tls (a few minutes; not part of npm test).
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authorize, loadMaterial, SECURE_CIPHERS, staticSource } from '@meshless/core';
import { createCa, type KeyAlgorithm } from '@meshless/pki';
import { createServer } from '@meshless/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSuccess, run, tempDir } from '../interop/support/tools.js';
import { close, listen } from '../support/https-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECURITY_MD = join(ROOT, 'docs/security.md');
const BEGIN = '<!-- audit:tls:begin (written by npm run audit:tls) -->';
const END = '<!-- audit:tls:end -->';
const KEYS: KeyAlgorithm[] = ['ecdsa-p256', 'rsa-2048'];

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

function testsslPath(): string {
  for (const candidate of ['/usr/bin/testssl', '/usr/local/bin/testssl', '/usr/bin/testssl.sh']) {
    try {
      execFileSync('test', ['-x', candidate]);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(
    'testssl is not installed: install the Debian package testssl.sh (apt-get install testssl.sh)',
  );
}

/** Without the ANSI colour codes testssl prints even for --version. */
const strip = (text: string) =>
  text
    .split(String.fromCharCode(27))
    .join('')
    .replace(/\[[0-9;]*m/g, '');
const versionOf = (file: string, args: string[], pattern: RegExp) =>
  pattern.exec(strip(execFileSync(file, args, { encoding: 'utf8' })))?.[1] ?? 'unknown';

const results = new Map<KeyAlgorithm, Finding[]>();
let removeDir: () => Promise<void> = async () => {};

beforeAll(async () => {
  const testssl = testsslPath();
  const temp = await tempDir('audit-tls');
  removeDir = temp.remove;
  for (const keyAlgorithm of KEYS) {
    const ca = await createCa({ trustDomain: 'example.org', keyAlgorithm });
    const issued = await ca.issue({
      spiffeId: 'spiffe://example.org/ns/audit/sa/server',
      ipAddresses: ['127.0.0.1'],
    });
    const material = loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
    const server = createServer({ source: staticSource(material), authorize: authorize.any() }, (_req, res) =>
      res.end('audit\n'),
    );
    const port = await listen(server);
    const json = join(temp.dir, `${keyAlgorithm}.json`);
    try {
      // -p protocols, -s cipher categories, -f forward secrecy, -P server preferences, -U vulnerabilities,
      // -E every cipher per protocol. The server is strict: testssl has no client certificate, which is
      // enough for everything but the HTTP checks (it reports "no HTTP service").
      const args = ['--quiet', '--color', '0', '--warnings', 'batch', '--jsonfile', json];
      const result = await run(testssl, [...args, '-p', '-s', '-f', '-P', '-U', '-E', `127.0.0.1:${port}`], {
        timeoutMs: 540_000,
      });
      if (result.timedOut) expectSuccess(result, 'testssl');
      results.set(keyAlgorithm, JSON.parse(await readFile(json, 'utf8')) as Finding[]);
    } finally {
      await close(server);
    }
  }
}, 1_200_000);

afterAll(async () => {
  await removeDir();
});

const NOT_OFFERED = [
  'SSLv2',
  'SSLv3',
  'TLS1',
  'TLS1_1',
  'cipherlist_NULL',
  'cipherlist_aNULL',
  'cipherlist_EXPORT',
  'cipherlist_LOW',
  'cipherlist_3DES_IDEA',
  'cipherlist_AVERAGE', // "Obsolete CBC ciphers"
];
const FLAGGED = new Set(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'FATAL']);

function findings(key: KeyAlgorithm): Finding[] {
  const list = results.get(key);
  if (!list) throw new Error(`testssl produced no results for ${key}`);
  return list;
}
const byId = (key: KeyAlgorithm, id: string) => findings(key).find((f) => f.id === id);
/** The ciphers testssl enumerated (-E): protocol, OpenSSL name, key exchange, encryption. */
function ciphers(key: KeyAlgorithm): { protocol: string; name: string; kx: string; enc: string }[] {
  // "TLS 1.2   xc02c   ECDHE-ECDSA-AES256-GCM-SHA384     ECDH 253   AESGCM      256      TLS_ECDHE_..."
  const line = /^(SSLv[23]|TLS 1(?:\.[123])?)\s+x[0-9a-f]+\s+(\S+)\s+(\S+)(?:\s+\d+)?\s+(\S+)\s+\d+/;
  return findings(key)
    .filter((f) => f.id.startsWith('cipher-'))
    .map((f) => {
      const match = line.exec(f.finding.trim());
      if (!match) throw new Error(`unexpected testssl cipher line: ${f.finding}`);
      const [, protocol = '', name = '', kx = '', enc = ''] = match;
      return { protocol, name, kx, enc };
    });
}

/** Every requirement the audit checks, as a list of what broke it (empty when all hold). */
function problems(key: KeyAlgorithm): string[] {
  const found: string[] = [];
  for (const id of NOT_OFFERED)
    if (byId(key, id)?.finding !== 'not offered') found.push(`${id}: ${byId(key, id)?.finding}`);
  if (byId(key, 'TLS1_2')?.finding !== 'offered') found.push('TLS 1.2 not offered');
  if (!byId(key, 'TLS1_3')?.finding.startsWith('offered')) found.push('TLS 1.3 not offered');
  if (byId(key, 'PFS')?.finding !== 'offered') found.push('no forward secrecy');
  const list = ciphers(key);
  if (list.length === 0) found.push('no ciphers enumerated');
  for (const c of list) {
    if (!/^ECDH/.test(c.kx)) found.push(`${c.name}: key exchange ${c.kx}`);
    if (!/^(AESGCM|ChaCha20)$/.test(c.enc)) found.push(`${c.name}: encryption ${c.enc}`);
  }
  for (const f of findings(key)) {
    if (FLAGGED.has(f.severity) || /(?<!not )vulnerable/i.test(f.finding) || f.id === 'scanProblem') {
      found.push(`${f.id} (${f.severity}): ${f.finding}`);
    }
  }
  return found;
}

describe.each(KEYS)('testssl.sh against a strict meshless server with an %s certificate', (key) => {
  it('offers TLS 1.2 and 1.3 only', () => {
    for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1'])
      expect(byId(key, id)?.finding, id).toBe('not offered');
    expect(byId(key, 'TLS1_2')?.finding).toBe('offered');
    expect(byId(key, 'TLS1_3')?.finding).toMatch(/^offered/);
  });

  it('offers no NULL, anonymous, export, LOW, RC4, 3DES or CBC cipher', () => {
    for (const id of NOT_OFFERED) expect(byId(key, id)?.finding, id).toBe('not offered');
    expect(byId(key, 'RC4')?.finding).toMatch(/^not vulnerable/);
  });

  it('has forward secrecy and AEAD only: every cipher is ECDHE with GCM or ChaCha20-Poly1305', () => {
    expect(byId(key, 'PFS')?.finding).toBe('offered');
    const list = ciphers(key);
    expect(list.length).toBeGreaterThan(0);
    for (const cipher of list) {
      expect(cipher.kx, cipher.name).toMatch(/^ECDH/);
      expect(cipher.enc, cipher.name).toMatch(/^(AESGCM|ChaCha20)$/);
      if (cipher.protocol.endsWith('1.2'))
        expect(SECURE_CIPHERS.split(':'), cipher.name).toContain(cipher.name);
    }
    expect(byId(key, 'ROBOT')?.finding).toMatch(/^not vulnerable/);
  });

  it('has nothing flagged vulnerable, and no finding rated LOW or above', () => {
    const flagged = findings(key).filter(
      (f) => FLAGGED.has(f.severity) || /(?<!not )vulnerable/i.test(f.finding) || f.id === 'scanProblem',
    );
    expect(flagged).toEqual([]);
  });
});

describe('the summary in docs/security.md', () => {
  it('is rewritten with this run, its date and versions', async () => {
    // Only a run in which every requirement held is written down.
    expect(KEYS.flatMap((key) => problems(key).map((p) => `${key}: ${p}`))).toEqual([]);
    const doc = await readFile(SECURITY_MD, 'utf8');
    const begin = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    if (begin === -1 || end < begin) throw new Error(`docs/security.md lacks the markers ${BEGIN} … ${END}`);
    const summary = renderSummary();
    await writeFile(SECURITY_MD, `${doc.slice(0, begin + BEGIN.length)}\n${summary}\n${doc.slice(end)}`);
    // The tables as the repository's formatter lays them out, so `npm run lint` stays clean.
    execFileSync(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', SECURITY_MD], { cwd: ROOT });
  });
});

function renderSummary(): string {
  const testssl = testsslPath();
  const opensslCli = versionOf('openssl', ['version'], /OpenSSL (\S+)/);
  const testsslVersion = versionOf(testssl, ['--version'], /testssl\s+(\S+)/);
  const version = JSON.parse(
    execFileSync('cat', [join(ROOT, 'packages/server/package.json')], { encoding: 'utf8' }),
  ).version as string;
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const row = (label: string, pick: (key: KeyAlgorithm) => string) =>
    `| ${label} | ${KEYS.map((key) => pick(key)).join(' | ')} |`;
  const finding = (id: string) => (key: KeyAlgorithm) => byId(key, id)?.finding ?? 'not reported';
  const list = (protocol: string) => (key: KeyAlgorithm) =>
    ciphers(key)
      .filter((c) => c.protocol.endsWith(protocol))
      .map((c) => `\`${c.name}\``)
      .join(', ');
  const flaggedCount = (key: KeyAlgorithm) =>
    String(
      findings(key).filter((f) => FLAGGED.has(f.severity) || /(?<!not )vulnerable/i.test(f.finding)).length,
    );
  const vulnerabilityIds = [
    'heartbleed',
    'CCS',
    'ROBOT',
    'secure_renego',
    'secure_client_renego',
    'CRIME_TLS',
    'POODLE_SSL',
    'fallback_SCSV',
    'SWEET32',
    'FREAK',
    'DROWN',
    'LOGJAM',
    'BEAST',
    'LUCKY13',
    'RC4',
  ];
  return [
    '**Result: every requirement held** (no SSLv3, TLS 1.0 or 1.1; no CBC, RSA key exchange, 3DES or RC4;',
    'forward secrecy only; nothing flagged vulnerable). The audit fails instead of writing this when one does not.',
    '',
    `Run on ${new Date().toISOString().slice(0, 10)} by \`npm run audit:tls\` (test/audit/testssl.audit.ts): testssl.sh ${testsslVersion}`,
    `(Debian package, its OpenSSL ${opensslCli}) against strict meshless servers (@meshless/server ${version},`,
    `commit ${commit}) on Node.js ${process.version} with OpenSSL ${process.versions.openssl}, certificates from @meshless/pki.`,
    'testssl ran `-p -s -f -P -U -E` without a client certificate; a strict server completes no handshake without',
    'one, which hides only the HTTP checks (testssl: "no HTTP service").',
    '',
    `| check | ${KEYS.map((k) => `${k} certificate`).join(' | ')} |`,
    `| --- | ${KEYS.map(() => '---').join(' | ')} |`,
    ...['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3'].map((id) =>
      row(id.replace('_', '.'), finding(id)),
    ),
    row('NULL / anonymous / export / LOW ciphers', (key) =>
      ['cipherlist_NULL', 'cipherlist_aNULL', 'cipherlist_EXPORT', 'cipherlist_LOW'].every(
        (id) => byId(key, id)?.finding === 'not offered',
      )
        ? 'not offered'
        : 'OFFERED',
    ),
    row('3DES / IDEA', finding('cipherlist_3DES_IDEA')),
    row('obsolete CBC ciphers', finding('cipherlist_AVERAGE')),
    row('forward secrecy', finding('PFS')),
    row('curves', finding('PFS_ECDHE_curves')),
    row('server cipher order', finding('cipher_order')),
    row(
      'negotiated by default',
      (key) => `${finding('protocol_negotiated')(key)}, ${finding('cipher_negotiated')(key)}`,
    ),
    row('TLS 1.2 ciphers', list('1.2')),
    row('TLS 1.3 ciphers', list('1.3')),
    ...vulnerabilityIds.map((id) => row(id, finding(id))),
    row('findings rated LOW or above, or "vulnerable"', flaggedCount),
  ].join('\n');
}
