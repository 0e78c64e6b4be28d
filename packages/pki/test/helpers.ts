import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMeshlessError, type MeshlessErrorCode } from '@meshless/core';
import { afterEach, expect } from 'vitest';

const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';
const made: string[] = [];

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory under os.tmpdir(), removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-pki-'));
  made.push(dir);
  return dir;
}

/** Runs the openssl CLI; returns stdout (stderr folded in on failure). */
export function openssl(args: string[], options: { cwd?: string } = {}): string {
  try {
    return execFileSync(OPENSSL, args, {
      cwd: options.cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`);
  }
}

/** Writes files into `dir` and returns their paths by name. */
export async function writeFiles<T extends Record<string, string>>(
  dir: string,
  files: T,
): Promise<{ [K in keyof T]: string }> {
  const paths = {} as { [K in keyof T]: string };
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(path, content);
    paths[name as keyof T] = path;
  }
  return paths;
}

/** The permission bits of a file. */
export async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** Expects a promise (or function) to fail with a MeshlessError of `code`, and returns the error. */
export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: MeshlessErrorCode,
  message?: RegExp,
) {
  let error: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (err) {
    error = err;
  }
  expect(error, `expected ${code}`).toBeDefined();
  if (!isMeshlessError(error, code))
    throw new Error(
      `expected ${code}, got ${(error as Error)?.name}: ${(error as Error)?.message} (${(error as { code?: string })?.code})`,
    );
  if (message) expect(error.message).toMatch(message);
  return error;
}
