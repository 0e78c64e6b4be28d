// meshless demo: runs the demo script with Node, its exit status passed on; a clear usage error
// (exit 2) when there is no script.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, expectErrorLine, meshless, tempDir, write } from './helpers.js';

const work = tempDir();

beforeAll(ensureBuilt);
afterAll(() => work.remove());

describe('meshless demo', () => {
  it('runs the script named by MESHLESS_DEMO_SCRIPT with the arguments given, and exits 0 when it does', async () => {
    const script = write(
      join(work.dir, 'run.mjs'),
      "console.log('demo ran with', JSON.stringify(process.argv.slice(2)));\n",
    );
    const result = await meshless(['demo', 'fast'], { env: { MESHLESS_DEMO_SCRIPT: script } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('demo ran with ["fast"]\n');
  });

  it('exits 1 when the demo fails', async () => {
    const script = write(join(work.dir, 'fail.mjs'), 'process.exit(3);\n');
    const result = await meshless(['demo'], { env: { MESHLESS_DEMO_SCRIPT: script } });
    expect(result.code).toBe(1);
  });

  it('exits 2 with one line when there is no demo script', async () => {
    const result = await meshless(['demo'], { env: { MESHLESS_DEMO_SCRIPT: join(work.dir, 'missing.mjs') } });
    expect(result.code).toBe(2);
    expectErrorLine(result.stderr, 'ERR_MESHLESS_DEMO_NOT_FOUND');
    expect(result.stderr).toContain('MESHLESS_DEMO_SCRIPT points at');
  });
});
