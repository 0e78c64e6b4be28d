// meshless verify: every check of loadMaterial with its mark, and for each kind of bad material
// the failing check, its code (the one loadMaterial throws), exit 1, and one line on stderr.
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMaterial } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIntermediate, makeKey, makeLeaf, makeRoot } from '../../../test/support/certs.js';
import { ensureBuilt, expectErrorLine, json, meshless, tempDir } from './helpers.js';

const work = tempDir();
const cwd = work.dir;
const DAY = 86_400_000;
const CHECKS = [
  'cert-pem',
  'ca-pem',
  'key-readable',
  'key-strength',
  'key-match',
  'signature',
  'svid-profile',
  'validity',
  'trust-anchors',
  'chain',
  'load',
];

interface Check {
  id: string;
  title: string;
  outcome: string;
  detail?: string;
  code?: string;
}
interface Document {
  ok: boolean;
  checks: Check[];
  identity: { spiffeId?: string } | null;
}

/** Writes a case's three files into its own directory and returns the verify arguments. */
function files(name: string, material: { cert: string; key: string; ca: string }): string[] {
  const paths = {
    cert: join(cwd, `${name}.crt`),
    key: join(cwd, `${name}.key`),
    ca: join(cwd, `${name}.ca`),
  };
  writeFileSync(paths.cert, material.cert);
  writeFileSync(paths.key, material.key, { mode: 0o600 });
  writeFileSync(paths.ca, material.ca);
  return ['--cert', paths.cert, '--key', paths.key, '--ca', paths.ca];
}

const cases: { name: string; failing: string; code: string; args?: string[] }[] = [];
let good: string[];
let encrypted: string[];

beforeAll(async () => {
  await ensureBuilt();
  const root = await makeRoot();
  const intermediate = await makeIntermediate(root);
  const leaf = await makeLeaf(intermediate);
  good = files('good', { cert: leaf.chainPem, key: leaf.keyPem, ca: root.certPem });
  const lockedKey = createPrivateKey(leaf.keyPem).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'correct horse',
  }) as string;
  encrypted = files('encrypted', { cert: leaf.chainPem, key: lockedKey, ca: root.certPem });
  const other = await makeLeaf(root);
  const foreign = await makeRoot({ trustDomain: 'example.org' });
  const add = (
    name: string,
    failing: string,
    code: string,
    material: { cert: string; key: string; ca: string },
  ) => cases.push({ name, failing, code, args: files(name, material) });

  add('key-mismatch', 'key-match', 'ERR_MESHLESS_KEY_MISMATCH', {
    cert: leaf.chainPem,
    key: other.keyPem,
    ca: root.certPem,
  });
  const expired = await makeLeaf(root, {
    notBefore: new Date(Date.now() - 2 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
  add('expired', 'validity', 'ERR_MESHLESS_CERT_EXPIRED', {
    cert: expired.chainPem,
    key: expired.keyPem,
    ca: root.certPem,
  });
  const future = await makeLeaf(root, {
    notBefore: new Date(Date.now() + DAY),
    notAfter: new Date(Date.now() + 2 * DAY),
  });
  add('not-yet-valid', 'validity', 'ERR_MESHLESS_CERT_NOT_YET_VALID', {
    cert: future.chainPem,
    key: future.keyPem,
    ca: root.certPem,
  });
  add('foreign-ca', 'chain', 'ERR_MESHLESS_CHAIN_UNTRUSTED', {
    cert: leaf.chainPem,
    key: leaf.keyPem,
    ca: foreign.certPem,
  });
  add('missing-intermediate', 'chain', 'ERR_MESHLESS_CHAIN_UNTRUSTED', {
    cert: leaf.certPem,
    key: leaf.keyPem,
    ca: root.certPem,
  });
  const weak = await makeLeaf(root, { key: 'rsa-1024' });
  add('weak-key', 'key-strength', 'ERR_MESHLESS_KEY_WEAK', {
    cert: weak.chainPem,
    key: weak.keyPem,
    ca: root.certPem,
  });
  const sha1 = await makeLeaf(root, { key: 'rsa-2048', hash: 'SHA-1' });
  add('sha1', 'signature', 'ERR_MESHLESS_SIGNATURE_WEAK', {
    cert: sha1.chainPem,
    key: sha1.keyPem,
    ca: root.certPem,
  });
  const twoUris = await makeLeaf(root, { uris: ['spiffe://example.org/a', 'spiffe://example.org/b'] });
  add('svid', 'svid-profile', 'ERR_MESHLESS_SVID_INVALID', {
    cert: twoUris.chainPem,
    key: twoUris.keyPem,
    ca: root.certPem,
  });
  add('leaf-as-ca', 'trust-anchors', 'ERR_MESHLESS_BUNDLE_INVALID', {
    cert: leaf.chainPem,
    key: leaf.keyPem,
    ca: other.certPem,
  });
  add('not-pem', 'cert-pem', 'ERR_MESHLESS_PEM_INVALID', {
    cert: 'not a certificate\n',
    key: leaf.keyPem,
    ca: root.certPem,
  });
  add('key-in-cert', 'cert-pem', 'ERR_MESHLESS_PEM_INVALID', {
    cert: leaf.chainPem + leaf.keyPem,
    key: leaf.keyPem,
    ca: root.certPem,
  });
  add('cert-as-key', 'key-readable', 'ERR_MESHLESS_PEM_INVALID', {
    cert: leaf.chainPem,
    key: leaf.certPem,
    ca: root.certPem,
  });
  const p384 = await makeKey('ec-p384');
  add('other-key', 'key-match', 'ERR_MESHLESS_KEY_MISMATCH', {
    cert: leaf.chainPem,
    key: p384.keyPem,
    ca: root.certPem,
  });
  cases.push({
    name: 'missing-file',
    failing: 'ca-pem',
    code: 'ERR_MESHLESS_FILE_UNREADABLE',
    args: ['--cert', join(cwd, 'good.crt'), '--key', join(cwd, 'good.key'), '--ca', join(cwd, 'nowhere.crt')],
  });
});
afterAll(() => work.remove());

describe('meshless verify', () => {
  it('passes valid material with a mark for every check of loadMaterial (exit 0)', async () => {
    const result = await meshless(['verify', ...good]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('✓ '))).toHaveLength(CHECKS.length + 1);
    expect(result.stdout).toContain(
      '✓ leaf chains to a root of the ca file: "CN=workload" → "CN=test intermediate" → "CN=example.org test root"',
    );
    expect(result.stdout).toContain('✓ valid: spiffe://example.org/ns/default/sa/workload');
  });

  it('gives every check in --json', async () => {
    const result = await meshless(['verify', '--json', ...good]);
    expect(result.code).toBe(0);
    const doc = json<Document>(result);
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c) => c.id)).toEqual(CHECKS);
    expect(doc.checks.every((c) => c.outcome === 'pass')).toBe(true);
    expect(doc.identity?.spiffeId).toBe('spiffe://example.org/ns/default/sa/workload');
  });

  it('fails each kind of bad material at its check, with the code loadMaterial throws (exit 1)', async () => {
    expect(cases.length).toBeGreaterThan(10);
    // Subprocesses in parallel: each case is independent.
    await Promise.all(
      cases.map(async ({ name, failing, code, args }) => {
        const result = await meshless(['verify', '--json', ...(args as string[])]);
        expect(result.code, name).toBe(1);
        const doc = json<Document>(result);
        expect(doc.ok, name).toBe(false);
        const first = doc.checks.find((c) => c.outcome === 'fail');
        expect({ name, id: first?.id, code: first?.code }).toEqual({ name, id: failing, code });
        expect(
          doc.checks.some((c) => c.id === 'load'),
          name,
        ).toBe(false);
        expectErrorLine(result.stderr, code);
        // The first failure is what loadMaterial itself reports.
        if (name !== 'missing-file') {
          const read = (flag: string) => readFileSync(args?.[args.indexOf(flag) + 1] as string);
          expect(
            () => loadMaterial({ cert: read('--cert'), key: read('--key'), ca: read('--ca') }),
            name,
          ).toThrow(expect.objectContaining({ code }));
        }
      }),
    );
  });

  it('marks each failure with ✗ and its code, and skips the checks that depend on it', async () => {
    const missing = cases.find((c) => c.name === 'missing-file');
    const result = await meshless(['verify', ...(missing?.args ?? [])]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^✗ ca file .*nowhere\.crt holds PEM certificates: cannot read ca file .* no such file \(ERR_MESHLESS_FILE_UNREADABLE\)$/m,
    );
    expect(result.stdout).toMatch(
      /^- leaf chains to a root of the ca file: not checked: the ca file did not parse$/m,
    );
    expect(result.stdout).toMatch(/^✓ key belongs to the leaf certificate$/m);
    expect(result.stdout).toContain('✗ invalid: 1 check failed');
    expect(result.stderr).toMatch(
      /^meshless: the material is invalid: .* \(ERR_MESHLESS_FILE_UNREADABLE\)\n$/,
    );
  });

  it('reports several independent failures at once', async () => {
    const mismatch = cases.find((c) => c.name === 'key-mismatch')?.args as string[];
    const foreignCa = cases.find((c) => c.name === 'foreign-ca')?.args as string[];
    const args = [...mismatch.slice(0, 4), '--ca', foreignCa[5] as string];
    const doc = json<Document>(await meshless(['verify', '--json', ...args]));
    expect(doc.checks.filter((c) => c.outcome === 'fail').map((c) => c.code)).toEqual([
      'ERR_MESHLESS_KEY_MISMATCH',
      'ERR_MESHLESS_CHAIN_UNTRUSTED',
    ]);
  });

  it('opens an encrypted key with the passphrase from the variable --passphrase-env names', async () => {
    const without = await meshless(['verify', ...encrypted]);
    expect(without.code).toBe(1);
    expectErrorLine(without.stderr, 'ERR_MESHLESS_KEY_ENCRYPTED');
    const right = await meshless(['verify', '--passphrase-env', 'KEY_PASS', ...encrypted], {
      env: { KEY_PASS: 'correct horse' },
    });
    expect(right.code, right.stdout).toBe(0);
    const wrong = await meshless(['verify', '--passphrase-env', 'KEY_PASS', ...encrypted], {
      env: { KEY_PASS: 'battery' },
    });
    expect(wrong.code).toBe(1);
    expectErrorLine(wrong.stderr, 'ERR_MESHLESS_KEY_DECRYPT_FAILED');
    const unset = await meshless(['verify', '--passphrase-env', 'NO_SUCH_VARIABLE', ...encrypted]);
    expect(unset.code).toBe(2);
    expectErrorLine(unset.stderr, 'ERR_MESHLESS_USAGE');
  });
});
