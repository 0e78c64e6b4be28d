// meshless doctor: layouts (cert-manager, spiffe-helper, a Kubernetes ..data volume), key
// permissions, expiry thresholds, and a fix for each problem; exit 1 when anything is wrong.
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot } from '../../../test/support/certs.js';
import { ensureBuilt, expectErrorLine, json, meshless, tempDir } from './helpers.js';

const work = tempDir();
const cwd = work.dir;
const HOUR = 3_600_000;

interface Check {
  id: string;
  outcome: string;
  detail?: string;
  code?: string;
  fix?: string;
}
interface Document {
  ok: boolean;
  problems: number;
  layout: string | null;
  files: { cert?: string; key?: string; ca?: string };
  identity: string | null;
  checks: Check[];
}

async function issue(out: string, extra: string[] = []): Promise<void> {
  const result = await meshless(
    ['issue', '--ca', 'ca', '--spiffe-id', 'spiffe://example.org/ns/prod/sa/web', '--out', out, ...extra],
    { cwd },
  );
  expect(result.code, result.stderr).toBe(0);
}

async function doctor(
  args: string[],
): Promise<{ code: number | null; doc: Document; stdout: string; stderr: string }> {
  const result = await meshless(['doctor', '--json', ...args], { cwd });
  const text = await meshless(['doctor', ...args], { cwd });
  return { code: result.code, doc: json<Document>(result), stdout: text.stdout, stderr: text.stderr };
}

const failed = (doc: Document) => doc.checks.filter((c) => c.outcome === 'fail');

beforeAll(async () => {
  await ensureBuilt();
  expect(
    (await meshless(['ca', 'create', '--trust-domain', 'example.org', '--out', 'ca'], { cwd })).code,
  ).toBe(0);
  await Promise.all([
    issue('cert-manager'),
    issue('spiffe-helper', ['--layout', 'spiffe-helper']),
    issue('world-readable'),
    issue('k8s-source'),
  ]);
  chmodSync(join(cwd, 'world-readable', 'tls.key'), 0o644);

  // A Kubernetes secret volume: files behind ..data, which points at a timestamped directory.
  const volume = join(cwd, 'k8s');
  const data = join(volume, '..2026_01_01_00_00_00.000000001');
  mkdirSync(data, { recursive: true });
  for (const name of ['tls.crt', 'tls.key', 'ca.crt']) {
    writeFileSync(join(data, name), readFileSync(join(cwd, 'k8s-source', name)), {
      mode: name === 'tls.key' ? 0o440 : 0o644,
    });
    symlinkSync(join('..data', name), join(volume, name));
  }
  symlinkSync('..2026_01_01_00_00_00.000000001', join(volume, '..data'));

  // Made by another CA with an explicit window: 23 of its 24 hours are gone.
  const root = await makeRoot();
  const leaf = await makeLeaf(root, {
    notBefore: new Date(Date.now() - 23 * HOUR),
    notAfter: new Date(Date.now() + HOUR),
  });
  mkdirSync(join(cwd, 'expiring'));
  writeFileSync(join(cwd, 'expiring', 'tls.crt'), leaf.chainPem);
  writeFileSync(join(cwd, 'expiring', 'tls.key'), leaf.keyPem, { mode: 0o600 });
  writeFileSync(join(cwd, 'expiring', 'ca.crt'), root.certPem);

  await issue('no-ca');
  rmSync(join(cwd, 'no-ca', 'ca.crt'));
  mkdirSync(join(cwd, 'empty'));
  writeFileSync(join(cwd, 'empty', 'notes.txt'), 'nothing here\n');
});
afterAll(() => work.remove());

describe('meshless doctor', () => {
  it('finds no problem in a cert-manager directory (exit 0)', async () => {
    const { code, doc, stdout } = await doctor(['--dir', 'cert-manager']);
    expect(code).toBe(0);
    expect(doc).toMatchObject({
      ok: true,
      problems: 0,
      layout: 'cert-manager',
      identity: 'spiffe://example.org/ns/prod/sa/web',
    });
    expect(doc.files).toEqual({
      cert: 'cert-manager/tls.crt',
      key: 'cert-manager/tls.key',
      ca: 'cert-manager/ca.crt',
    });
    expect(doc.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining(['layout', 'key-permissions', 'key-match', 'chain', 'expiry']),
    );
    expect(stdout).toContain(
      '✓ directory holds a known file layout: cert-manager (tls.crt, tls.key, ca.crt)',
    );
    expect(stdout).toContain('✓ key file is private to its owner (and group): mode 0600');
    expect(stdout).toMatch(/✓ no certificate is close to expiry: leaf in 23h5\dm, root in 36\dd/);
    expect(stdout).toContain('✓ no problems found: spiffe://example.org/ns/prod/sa/web');
  });

  it('recognises the spiffe-helper layout', async () => {
    const { code, doc, stdout } = await doctor(['--dir', 'spiffe-helper']);
    expect(code).toBe(0);
    expect(doc.layout).toBe('spiffe-helper');
    expect(stdout).toContain('spiffe-helper (svid.pem, svid_key.pem, svid_bundle.pem)');
  });

  it('recognises a Kubernetes volume behind ..data, judging the files the symlinks point at', async () => {
    const { code, doc, stdout } = await doctor(['--dir', 'k8s']);
    expect(code, stdout).toBe(0);
    expect(doc.layout).toBe('cert-manager');
    expect(stdout).toContain('a Kubernetes volume (..data → ..2026_01_01_00_00_00.000000001)');
    expect(stdout).toMatch(/mode 0440 \(group-readable/);
  });

  it('flags a world-readable key with its fix (exit 1)', async () => {
    const { code, doc, stdout, stderr } = await doctor(['--dir', 'world-readable']);
    expect(code).toBe(1);
    expect(failed(doc)).toEqual([
      expect.objectContaining({
        id: 'key-permissions',
        code: 'ERR_MESHLESS_KEY_PERMISSIONS',
        detail: 'world-readable/tls.key is mode 0644: readable by every user on the machine',
        fix: expect.stringContaining('chmod 600'),
      }),
    ]);
    expect(stdout).toMatch(/✗ key file is private .* \(ERR_MESHLESS_KEY_PERMISSIONS\)\n {4}fix: chmod 600/);
    expect(stdout).toContain('✗ 1 problem found');
    expectErrorLine(stderr, 'ERR_MESHLESS_KEY_PERMISSIONS');
  });

  it('flags a certificate with less than a third of its lifetime left, or inside --warn-within', async () => {
    const expiring = await doctor(['--dir', 'expiring']);
    expect(expiring.code).toBe(1);
    expect(failed(expiring.doc)).toEqual([
      expect.objectContaining({
        id: 'expiry',
        code: 'ERR_MESHLESS_CERT_EXPIRING',
        fix: expect.stringContaining('renew'),
      }),
    ]);
    expect(expiring.stdout).toMatch(
      /leaf "CN=workload" expires in (59m|1h)\S* \(threshold 8h: a third of its 1d lifetime\)/,
    );

    const within = await doctor(['--dir', 'cert-manager', '--warn-within', '48h']);
    expect(within.code).toBe(1);
    expect(failed(within.doc).map((c) => c.code)).toEqual(['ERR_MESHLESS_CERT_EXPIRING']);
    expect(within.stdout).toContain('threshold 2d: --warn-within 2d');
  });

  it('says which layout it expected, for a directory it does not recognise', async () => {
    const { code, doc } = await doctor(['--dir', 'empty']);
    expect(code).toBe(1);
    expect(doc.checks).toEqual([
      expect.objectContaining({
        id: 'layout',
        code: 'ERR_MESHLESS_LAYOUT_UNKNOWN',
        detail: expect.stringContaining('found notes.txt'),
        fix: expect.stringContaining('--cert, --key and --ca'),
      }),
    ]);
    const missing = await doctor(['--dir', 'no-such-dir']);
    expect(missing.code).toBe(1);
    expect(failed(missing.doc)[0]?.code).toBe('ERR_MESHLESS_FILE_UNREADABLE');
  });

  it('explains a cert-manager secret without ca.crt, and takes --ca to complete it', async () => {
    const { code, doc } = await doctor(['--dir', 'no-ca']);
    expect(code).toBe(1);
    expect(failed(doc)).toEqual([
      expect.objectContaining({
        id: 'ca-pem',
        code: 'ERR_MESHLESS_FILE_UNREADABLE',
        fix: expect.stringContaining('pass the issuer root with --ca'),
      }),
    ]);
    const completed = await doctor(['--dir', 'no-ca', '--ca', 'ca/bundle.crt']);
    expect(completed.code).toBe(0);
  });

  it('checks three files named with --cert, --key and --ca', async () => {
    const args = ['--cert', 'expiring/tls.crt', '--key', 'cert-manager/tls.key', '--ca', 'expiring/ca.crt'];
    const { code, doc } = await doctor(args);
    expect(code).toBe(1);
    expect(doc.layout).toBeNull();
    expect(failed(doc).map((c) => c.code)).toEqual([
      'ERR_MESHLESS_KEY_MISMATCH',
      'ERR_MESHLESS_CERT_EXPIRING',
    ]);
    expect(failed(doc).every((c) => typeof c.fix === 'string')).toBe(true);
  });
});
