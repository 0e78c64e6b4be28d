import { beforeAll, describe, expect, it } from 'vitest';
import { stageReport } from '../src/coverage-table.mjs';
import { runMigration } from '../src/migration.mjs';

// The three stages over real TLS and plaintext on 127.0.0.1; the numbers come from createCoverage.
type Result = Awaited<ReturnType<typeof runMigration>>[number];
let stages: Result[];
const userAgents = (result: Result) =>
  result.coverage.unmigrated.map((c: { userAgent: string }) => c.userAgent).sort();

beforeAll(async () => {
  stages = await runMigration({ requests: 6 });
}, 30_000);

describe('example: migrate-to-strict', () => {
  it('stage 1, plaintext: 0% mTLS, every caller listed as unmigrated, all answered', () => {
    expect(stages[0]).toBeDefined();
    const plaintext = stages[0]!;
    expect(plaintext.mode).toBe('permissive');
    expect(plaintext.coverage.shares.mtls).toBe(0);
    expect(plaintext.coverage.byLabel.plaintext).toBe(18);
    expect(userAgents(plaintext)).toEqual(['invoice-export/0.9', 'orders/2.3', 'reports/1.4']);
    for (const outcome of Object.values(plaintext.outcomes)) expect(outcome.failed).toBe(0);
  });

  it('stage 2, permissive: some callers migrated, coverage strictly between 0 and 100%', () => {
    expect(stages[1]).toBeDefined();
    const permissive = stages[1]!;
    expect(permissive.mode).toBe('permissive');
    expect(permissive.coverage.shares.mtls).toBeGreaterThan(0);
    expect(permissive.coverage.shares.mtls).toBeLessThan(1);
    expect(permissive.coverage.byLabel).toEqual({ mtls: 6, tls: 0, plaintext: 12 });
    expect(userAgents(permissive)).toEqual(['invoice-export/0.9', 'reports/1.4']);
    expect(permissive.outcomes.orders).toMatchObject({ kind: 'createFetch (mTLS)', ok: 6, failed: 0 });
    // The audit found nothing enforcement would refuse: the green light for strict.
    expect(permissive.audit?.checked).toBeGreaterThan(0);
    expect(permissive.audit?.wouldDeny).toBe(0);
  });

  it('stage 3, strict: 100% mTLS, no unmigrated caller, the plaintext client refused at the handshake', () => {
    expect(stages[2]).toBeDefined();
    const strict = stages[2]!;
    expect(strict.mode).toBe('strict');
    expect(strict.coverage.shares.mtls).toBe(1);
    expect(strict.coverage.byLabel).toEqual({ mtls: 12, tls: 0, plaintext: 0 });
    expect(strict.coverage.unmigrated).toEqual([]);
    expect(strict.outcomes.orders).toMatchObject({ ok: 6, failed: 0 });
    expect(strict.outcomes.reports).toMatchObject({ kind: 'createFetch (mTLS)', ok: 6, failed: 0 });
    expect(strict.outcomes['invoice-export']).toMatchObject({ kind: 'plain node:http', ok: 0, failed: 6 });
    expect(strict.handshakeFailures.protocol).toBeGreaterThanOrEqual(1);
  });

  it('prints the coverage table of each stage', () => {
    expect(stageReport(stages[0], 1)).toContain('mTLS coverage: 0.0% of 18 requests');
    expect(stageReport(stages[1], 2)).toContain('mTLS coverage: 33.3% of 18 requests');
    const strict = stageReport(stages[2], 3);
    expect(strict).toContain('mTLS coverage: 100.0% of 12 requests');
    expect(strict).toContain('unmigrated callers: none');
    expect(strict).toMatch(/invoice-export\s+plain node:http\s+0 answered, 6 refused/);
  });
});
