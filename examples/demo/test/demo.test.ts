import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs the demo the way `npm run demo` does (node on the built packages) and checks each claim it
// prints against the facts it measured, and those facts against the certificates themselves.
const run = promisify(execFile);
let stdout = '';
let seconds = 0;
let exitCode = 0;
let report: {
  ok: boolean;
  seconds: number;
  steps: {
    identities: { dir: string; ids: Record<string, string> };
    allowed: { status: number; caller: string; placedBy: string; tlsVersion: string; cipher: string };
    refused: {
      intruder: { status: number; error: string };
      noCertificate: { refused: boolean; code: string };
      foreignCa: { refused: boolean; code: string };
    };
    rotation: {
      oldSerial: string;
      newSerial: string;
      expectedSerial: string;
      newCertPem: string;
      pickupMs: number;
      made: number;
      failed: number;
      rotations: number;
    };
  };
};
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshless-demo-test-'));
  const reportFile = join(dir, 'report.json');
  const started = performance.now();
  try {
    ({ stdout } = await run(process.execPath, ['examples/demo/run.mjs'], {
      env: { ...process.env, NO_COLOR: '1', MESHLESS_DEMO_REPORT: reportFile },
      timeout: 60_000,
    }));
  } catch (error) {
    exitCode = (error as { code?: number }).code ?? 1;
    stdout = (error as { stdout?: string }).stdout ?? '';
  }
  seconds = (performance.now() - started) / 1000;
  report = JSON.parse(await readFile(reportFile, 'utf8'));
}, 90_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('exits 0 in under 30 seconds, saying every claim held', () => {
    expect(exitCode).toBe(0);
    expect(report.ok).toBe(true);
    expect(seconds).toBeLessThan(30);
    expect(stdout).toContain('All claims held.');
    expect(stdout).not.toContain('✗');
    expect(stdout).not.toContain('\u001b['); // NO_COLOR: plain text, no escape sequences
  });

  it('shows orders → billing allowed, with the peer ID, TLS version and cipher', () => {
    const { allowed, identities } = report.steps;
    expect(allowed.status).toBe(201);
    expect(allowed.caller).toBe(identities.ids.orders);
    expect(allowed.placedBy).toBe(identities.ids.frontend);
    expect(allowed.tlsVersion).toBe('TLSv1.3');
    expect(stdout).toContain(`billing allowed the call from ${identities.ids.orders}`);
    expect(stdout).toContain(`over ${allowed.tlsVersion} with ${allowed.cipher}`);
  });

  it('shows the intruder refused with 403 and both outsiders refused at the TLS layer', () => {
    const { refused, identities } = report.steps;
    expect(refused.intruder).toEqual({ status: 403, error: 'peer_forbidden' });
    expect(stdout).toContain(`${identities.ids.intruder} (same CA) → billing: 403 peer_forbidden`);
    expect(refused.noCertificate.refused).toBe(true);
    expect(refused.foreignCa.refused).toBe(true);
    expect(stdout).toContain(
      `a client without a certificate → billing: refused at the TLS layer (${refused.noCertificate.code})`,
    );
    expect(stdout).toContain(
      `a client from a foreign CA (evil.example) → billing: refused at the TLS layer (${refused.foreignCa.code})`,
    );
  });

  it('shows the rotation picked up under load with zero failed requests', () => {
    const { rotation } = report.steps;
    const issuedSerial = new X509Certificate(rotation.newCertPem).serialNumber;
    expect(rotation.newSerial).toBe(issuedSerial);
    expect(rotation.newSerial).not.toBe(rotation.oldSerial);
    expect(rotation.pickupMs).toBeLessThan(1000);
    expect(rotation.made).toBeGreaterThan(10);
    expect(rotation.failed).toBe(0);
    expect(rotation.rotations).toBe(1);
    expect(stdout).toContain(
      `new connections get serial ${rotation.newSerial} (was ${rotation.oldSerial}), ${rotation.pickupMs} ms after the swap`,
    );
    expect(stdout).toContain(`${rotation.made} requests made during the rotation, 0 failed`);
  });

  it('cleans up its temporary directory', async () => {
    await expect(readFile(join(report.steps.identities.dir, 'billing-tls', 'tls.crt'))).rejects.toThrow(
      /ENOENT/,
    );
    expect(stdout).toContain(`${report.steps.identities.dir} removed`);
  });
});
