// ca create, issue, csr and sign: the files they write, their modes, and that what they write is
// material meshless accepts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMaterial } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, expectErrorLine, json, meshless, modeOf, tempDir } from './helpers.js';

const work = tempDir();
const cwd = work.dir;
const TD = 'example.org';

beforeAll(async () => {
  await ensureBuilt();
  const created = await meshless(['ca', 'create', '--trust-domain', TD, '--out', 'ca'], { cwd });
  expect(created.code, created.stderr).toBe(0);
});
afterAll(() => work.remove());

function material(dir: string, names = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' }) {
  return loadMaterial({
    cert: readFileSync(join(dir, names.cert)),
    key: readFileSync(join(dir, names.key)),
    ca: readFileSync(join(dir, names.ca)),
  });
}

describe('meshless ca create', () => {
  it('writes ca.crt, ca.key (0600) and bundle.crt in a 0700 directory', () => {
    expect(modeOf(join(cwd, 'ca'))).toBe('0700');
    expect(modeOf(join(cwd, 'ca', 'ca.key'))).toBe('0600');
    expect(readFileSync(join(cwd, 'ca', 'ca.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(join(cwd, 'ca', 'bundle.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('says what it made and what to do next', async () => {
    const result = await meshless(['ca', 'create', '--trust-domain', TD, '--out', 'ca-text'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ created a root CA for trust domain example.org');
    expect(result.stdout).toMatch(/key:\s+ca-text\/ca\.key \(mode 0600/);
    expect(result.stdout).toContain('next: meshless issue --ca ca-text');
  });

  it('refuses to replace an existing CA without --force (exit 2), and replaces it with --force', async () => {
    const before = readFileSync(join(cwd, 'ca', 'ca.key'), 'utf8');
    const refused = await meshless(['ca', 'create', '--trust-domain', TD, '--out', 'ca'], { cwd });
    expect(refused.code).toBe(2);
    expectErrorLine(refused.stderr, 'ERR_MESHLESS_USAGE');
    expect(refused.stderr).toContain('pass --force');
    expect(readFileSync(join(cwd, 'ca', 'ca.key'), 'utf8')).toBe(before);
    const forced = await meshless(['ca', 'create', '--trust-domain', TD, '--out', 'ca-forced', '--json'], {
      cwd,
    });
    expect(forced.code).toBe(0);
    const again = await meshless(['ca', 'create', '--trust-domain', TD, '--out', 'ca-forced', '--force'], {
      cwd,
    });
    expect(again.code).toBe(0);
  });

  it('makes Ed25519 and RSA CAs with a TTL, and reports them as JSON', async () => {
    for (const key of ['ed25519', 'rsa-2048']) {
      const result = await meshless(
        ['ca', 'create', '--trust-domain', TD, '--out', `ca-${key}`, '--key', key, '--ttl', '720h', '--json'],
        { cwd },
      );
      expect(result.code, result.stderr).toBe(0);
      const doc = json<{
        keyAlgorithm: string;
        trustDomain: string;
        notAfter: string;
        notBefore: string;
        files: Record<string, string>;
      }>(result);
      expect(doc).toMatchObject({ ok: true, keyAlgorithm: key, trustDomain: TD });
      expect(doc.files).toEqual({
        cert: `ca-${key}/ca.crt`,
        key: `ca-${key}/ca.key`,
        bundle: `ca-${key}/bundle.crt`,
      });
      const lifetime = Date.parse(doc.notAfter) - Date.parse(doc.notBefore);
      expect(Math.abs(lifetime - 720 * 3_600_000)).toBeLessThan(5 * 60_000);
    }
  });
});

describe('meshless issue', () => {
  it('writes the cert-manager layout with the key at 0600, accepted by loadMaterial', async () => {
    const id = 'spiffe://example.org/ns/prod/sa/web';
    const result = await meshless(
      [
        'issue',
        '--ca',
        'ca',
        '--spiffe-id',
        id,
        '--dns',
        'web.local',
        '--dns',
        'web',
        '--ip',
        '127.0.0.1',
        '--out',
        'web',
      ],
      { cwd },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`✓ issued ${id}`);
    expect(modeOf(join(cwd, 'web', 'tls.key'))).toBe('0600');
    const loaded = material(join(cwd, 'web'));
    expect(loaded.identity.spiffeId?.toString()).toBe(id);
    expect(loaded.identity.dnsNames).toEqual(['web.local', 'web']);
    expect(loaded.identity.ipAddresses).toEqual(['127.0.0.1']);
  });

  it('writes the spiffe-helper layout, with a TTL and JSON output', async () => {
    const id = 'spiffe://example.org/ns/prod/sa/api';
    const result = await meshless(
      [
        'issue',
        '--ca',
        'ca',
        '--spiffe-id',
        id,
        '--layout',
        'spiffe-helper',
        '--ttl',
        '1h',
        '--out',
        'api',
        '--json',
      ],
      { cwd },
    );
    expect(result.code, result.stderr).toBe(0);
    const doc = json<{ files: Record<string, string>; notAfter: string; layout: string }>(result);
    expect(doc.layout).toBe('spiffe-helper');
    expect(doc.files).toEqual({ cert: 'api/svid.pem', key: 'api/svid_key.pem', ca: 'api/svid_bundle.pem' });
    expect(modeOf(join(cwd, 'api', 'svid_key.pem'))).toBe('0600');
    expect(Date.parse(doc.notAfter) - Date.now()).toBeLessThanOrEqual(3_600_000);
    const loaded = material(join(cwd, 'api'), {
      cert: 'svid.pem',
      key: 'svid_key.pem',
      ca: 'svid_bundle.pem',
    });
    expect(loaded.identity.spiffeId?.toString()).toBe(id);
  });

  it('fails with the code of the problem: another trust domain, a missing CA, a bad IP', async () => {
    const foreign = await meshless(
      ['issue', '--ca', 'ca', '--spiffe-id', 'spiffe://other.org/web', '--out', 'x'],
      { cwd },
    );
    expect(foreign.code).toBe(1);
    expectErrorLine(foreign.stderr, 'ERR_MESHLESS_TRUST_DOMAIN_MISMATCH');
    const missing = await meshless(
      ['issue', '--ca', 'no-such-ca', '--spiffe-id', 'spiffe://example.org/web'],
      { cwd },
    );
    expect(missing.code).toBe(1);
    expectErrorLine(missing.stderr, 'ERR_MESHLESS_CA_INVALID');
    const badIp = await meshless(
      ['issue', '--ca', 'ca', '--spiffe-id', 'spiffe://example.org/web', '--ip', '1.2.3'],
      { cwd },
    );
    expect(badIp.code).toBe(2);
    expectErrorLine(badIp.stderr, 'ERR_MESHLESS_USAGE');
    expect(existsSync(join(cwd, 'x'))).toBe(false);
  });
});

describe('meshless csr and sign', () => {
  it('makes a key (0600) and a CSR, then signs it into a cert-manager layout', async () => {
    const id = 'spiffe://example.org/ns/prod/sa/billing';
    const csr = await meshless(['csr', '--spiffe-id', id, '--dns', 'billing.local', '--out', 'billing'], {
      cwd,
    });
    expect(csr.code, csr.stderr).toBe(0);
    expect(modeOf(join(cwd, 'billing', 'tls.key'))).toBe('0600');
    expect(readFileSync(join(cwd, 'billing', 'tls.csr'), 'utf8')).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----/,
    );
    expect(csr.stdout).toContain('next: meshless sign --ca CA_DIR --csr billing/tls.csr --out billing');

    const signed = await meshless(['sign', '--ca', 'ca', '--csr', 'billing/tls.csr', '--out', 'billing'], {
      cwd,
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`✓ signed ${id}`);
    const loaded = material(join(cwd, 'billing'));
    expect(loaded.identity.spiffeId?.toString()).toBe(id);
    expect(loaded.identity.dnsNames).toEqual(['billing.local']);
  });

  it('prints the chain on stdout without --out, reading the CSR from stdin', async () => {
    await meshless(
      ['csr', '--spiffe-id', 'spiffe://example.org/ns/prod/sa/stdin', '--out', 'stdin', '--json'],
      { cwd },
    );
    const request = readFileSync(join(cwd, 'stdin', 'tls.csr'), 'utf8');
    const result = await meshless(['sign', '--ca', 'ca', '--csr', '-', '--ttl', '2h'], {
      cwd,
      input: request,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    const loaded = loadMaterial({
      cert: result.stdout,
      key: readFileSync(join(cwd, 'stdin', 'tls.key')),
      ca: readFileSync(join(cwd, 'ca', 'bundle.crt')),
    });
    expect(loaded.identity.spiffeId?.toString()).toBe('spiffe://example.org/ns/prod/sa/stdin');
  });

  it('refuses a CSR that is not one (exit 1, ERR_MESHLESS_CSR_INVALID)', async () => {
    const result = await meshless(['sign', '--ca', 'ca', '--csr', '-'], { cwd, input: 'not a request\n' });
    expect(result.code).toBe(1);
    expectErrorLine(result.stderr, 'ERR_MESHLESS_CSR_INVALID');
  });
});
