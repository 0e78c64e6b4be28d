// close() leaves nothing behind: checked in a child process, which must exit by itself.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certManagerFiles, writeInPlace } from '../../../test/support/atomic-writer.js';
import { makeLeaf, makeRoot } from '../../../test/support/certs.js';
import { tempDir } from './support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..', '..');
let outDir: string;

beforeAll(async () => {
  // Bundled from the sources (with @meshless/core from its sources too, and every dependency) into a
  // temporary directory, so the test neither needs nor disturbs the packages' dist folders.
  outDir = await mkdtemp(join(tmpdir(), 'meshless-watcher-handles-'));
  await build({
    config: false,
    entry: { 'handles-child': join(here, 'fixtures', 'handles-child.ts') },
    outDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    noExternal: [/.*/],
    dts: false,
    sourcemap: false,
    silent: true,
    esbuildOptions(options) {
      options.alias = { '@meshless/core': join(repo, 'packages', 'core', 'src', 'index.ts') };
      // Bundled CommonJS dependencies call require(); give the ES module one.
      options.banner = {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      };
    },
  });
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

function run(
  script: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `the child did not exit by itself within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('close()', () => {
  it('leaves no handles or timers behind, and the process exits by itself', async () => {
    const dir = await tempDir();
    await writeInPlace(dir, certManagerFiles(await makeLeaf(await makeRoot())));
    const result = await run(join(outDir, 'handles-child.js'), [dir], 10_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(report.watchersBeforeClose).toBeGreaterThan(0);
    expect(report.leaked).toEqual([]);
    expect(report.failing).toBe(false);
  });
});
