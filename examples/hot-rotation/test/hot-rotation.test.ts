import { describe, expect, it } from 'vitest';
import { runHotRotation } from '../src/scenario.mjs';

// The whole example in-process: real files swapped like the kubelet does, real TLS on 127.0.0.1.
describe('example: hot-rotation', () => {
  it('rotates 4 times under load: no failed request, each new serial seen by a fresh connection within 1 s', async () => {
    const started = performance.now();
    const report = await runHotRotation({ rotations: 4, everyMs: 600 });

    expect(report.rotations).toHaveLength(4);
    expect(report.appliedByWatcher).toBe(4);
    expect(report.failures, report.failureSamples.join(', ')).toBe(0);
    expect(report.requests).toBeGreaterThan(100);
    for (const { serial, pickupMs } of report.rotations) {
      expect(pickupMs, `serial ${serial}`).toBeDefined();
      expect(pickupMs).toBeLessThan(1000);
    }
    // Every certificate ever served, and only those, was met by a fresh connection and named in answers.
    const all = [report.firstSerial, ...report.rotations.map((r) => r.serial)];
    expect(new Set(all).size).toBe(5);
    expect(new Set(report.serialsSeenFresh)).toEqual(new Set(all));
    expect(new Set(report.serialsAnswered)).toEqual(new Set(all));
    expect(performance.now() - started).toBeLessThan(15_000);
  }, 20_000);
});
