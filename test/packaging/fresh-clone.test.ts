// A fresh clone: `npx meshless` must work after the README's `npm ci` and `npm run build`. npm links a
// workspace's bin at install time, and skips one whose file does not exist yet (dist/ comes later,
// from the build), which sent `npx meshless` to the registry (a 404). The bin is now a file in git.
//
// To stay fast, the copy of the repository (its files in git, nothing else) installs only the CLI's
// workspace (`npm ci --workspace=packages/cli`: the same linking of workspace bins as a full `npm ci`,
// without the dev tools), and takes the build output from this checkout, which `npm test` has just
// built, instead of building again.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from './child-env.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 180_000;

let clone: string;
let beforeBuild: { code: number; stdout: string; stderr: string };

async function npx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', ...args], {
      cwd: clone,
      env: childEnv(),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(e.code ?? 1), stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  const parent = mkdtempSync(join(tmpdir(), 'meshless-fresh-clone-'));
  clone = join(parent, 'meshless');
  // What a clone holds: the files git tracks (and new ones not ignored), no node_modules, no dist.
  const { stdout } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of stdout.split('\0').filter(Boolean)) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(clone, file), { recursive: true });
  }
  await run(
    'npm',
    ['ci', '--workspace=packages/cli', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    {
      cwd: clone,
      env: childEnv(),
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  beforeBuild = await npx(['meshless', '--version']);
  for (const name of readdirSync(join(root, 'packages'))) {
    const dist = join(root, 'packages', name, 'dist');
    if (existsSync(dist)) cpSync(dist, join(clone, 'packages', name, 'dist'), { recursive: true });
  }
}, TIMEOUT_MS);

afterAll(() => {
  if (clone) rmSync(join(clone, '..'), { recursive: true, force: true });
});

describe('a fresh clone', () => {
  it('links the meshless command at install time, before the build', () => {
    const link = join(clone, 'node_modules', '.bin', 'meshless');
    expect(readlinkSync(link)).toMatch(
      /packages\/cli\/bin\/meshless\.js$|@meshless\/cli\/bin\/meshless\.js$/,
    );
  });

  it('says to build, not a 404 from the registry, when the command runs before the build', () => {
    expect(beforeBuild.code).toBe(2);
    expect(beforeBuild.stderr).toContain('meshless: the command is not built yet: run `npm run build`');
  });

  it('runs `npx meshless --help` after the build, from the workspace', async () => {
    const result = await npx(['meshless', '--help']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: meshless [options] [command]');
    const guide = /Documentation: (\S+)\s*$/.exec(result.stdout)?.[1] as string;
    expect(guide).toBe(join(clone, 'docs', 'cli.md'));
  });
});
