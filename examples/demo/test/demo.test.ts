import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
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
      noCertificate: { refused: boolean; code: string; reason: string };
      foreignCa: { refused: boolean; code: string; reason: string };
      wrongServer: { refused: boolean; code: string; found: string };
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
let kept: { stdout: string; code: number; report: typeof report };

async function demo(args: string[], reportFile: string) {
  try {
    const { stdout } = await run(process.execPath, ['examples/demo/run.mjs', ...args], {
      env: { ...process.env, NO_COLOR: '1', MESHLESS_DEMO_REPORT: reportFile },
      timeout: 90_000,
    });
    return { stdout, code: 0 };
  } catch (error) {
    return {
      stdout: (error as { stdout?: string }).stdout ?? '',
      code: (error as { code?: number }).code ?? 1,
    };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshless-demo-test-'));
  const started = performance.now();
  // The plain run is timed; the --keep run goes alongside, on the same machine.
  const [plain, keep] = await Promise.all([
    demo([], join(dir, 'report.json')).then((result) => {
      seconds = (performance.now() - started) / 1000;
      return result;
    }),
    demo(['--keep'], join(dir, 'kept.json')),
  ]);
  ({ stdout, code: exitCode } = plain);
  report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
  kept = { ...keep, report: JSON.parse(await readFile(join(dir, 'kept.json'), 'utf8')) };
}, 150_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  if (kept?.report) await rm(kept.report.steps.identities.dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('exits 0 in under 30 seconds (45 s, with the --keep run alongside), saying every claim held', () => {
    expect(exitCode).toBe(0);
    expect(report.ok).toBe(true);
    expect(seconds).toBeLessThan(45);
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

  it("shows the intruder refused with 403 and both outsiders refused at the handshake, with meshless's reasons", () => {
    const { refused, identities } = report.steps;
    expect(refused.intruder).toEqual({ status: 403, error: 'peer_forbidden' });
    expect(stdout).toContain(`${identities.ids.intruder} (same CA) → billing: 403 peer_forbidden`);
    expect(refused.noCertificate).toMatchObject({ refused: true, reason: 'no_certificate' });
    expect(refused.foreignCa).toMatchObject({ refused: true, reason: 'unknown_ca' });
    expect(stdout).toContain(
      'a client without a certificate → billing: refused at the TLS handshake, billing reports no_certificate',
    );
    expect(stdout).toContain(
      'a client from a foreign CA (evil.example) → billing: refused at the TLS handshake, billing reports unknown_ca',
    );
    expect(stdout).not.toContain('CLOSED_BY_SERVER');
  });

  it('shows the client refusing a server with the wrong SPIFFE ID (the other half of mutual TLS)', () => {
    const { refused, identities } = report.steps;
    expect(refused.wrongServer).toEqual({
      refused: true,
      code: 'ERR_MESHLESS_SERVER_UNAUTHORIZED',
      found: identities.ids.billing,
    });
    expect(stdout).toContain(
      `frontend expecting ${identities.ids.orders} → billing's address: refused by the client before sending a byte (ERR_MESHLESS_SERVER_UNAUTHORIZED): it presented ${identities.ids.billing}`,
    );
  });

  it('ends with the next step: the getting-started guide', () => {
    const guide = /^Next: .*: (\S+)$/m.exec(stdout)?.[1] as string;
    expect(guide).toMatch(/docs\/getting-started\.md$/);
    expect(existsSync(guide)).toBe(true);
  });

  it('with --keep, leaves the certificates and commands that work on them', async () => {
    expect(kept.code).toBe(0);
    const keptDir = kept.report.steps.identities.dir;
    expect(kept.stdout).toContain(`${keptDir} kept`);
    const verify = new RegExp(`npx meshless verify --dir (${keptDir}\\S*)`).exec(kept.stdout)?.[1] as string;
    expect(verify).toBe(join(keptDir, 'billing-tls'));
    const cli = join('packages', 'cli', 'dist', 'bin.js');
    const checked = await run(process.execPath, [cli, 'verify', '--dir', verify], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(checked.stdout).toContain(`✓ valid: ${kept.report.steps.identities.ids.billing}`);
  });

  it('refuses an unknown argument (exit 2)', async () => {
    const result = await demo(['--keeep'], join(dir, 'none.json'));
    expect(result.code).toBe(2);
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
