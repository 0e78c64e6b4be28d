// Runs the built `meshless` binary as a subprocess, the way a user does, and builds it first when
// the sources are newer than dist (once per test run, even with test files in parallel workers).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = fileURLToPath(new URL('../../..', import.meta.url));
export const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const BUILD_TIMEOUT_MS = 120_000;
export const RUN_TIMEOUT_MS = 20_000;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Runs `node dist/bin.js ...args` with NO_COLOR=1 and resolves with its exit code and output.
 * Asynchronous on purpose: probe tests run their servers in this process's event loop.
 */
export async function meshless(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  // In a shared working tree another build may be replacing dist at this moment (tsup cleans it
  // first): wait for it rather than fail on a file that is about to come back.
  for (let attempt = 1; ; attempt++) {
    const result = await runOnce(args, options);
    const rebuilding = result.code === 1 && /Cannot find module '[^']*\/dist\//.test(result.stderr);
    if (!rebuilding || attempt === 5) return result;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

function runOnce(args: readonly string[], options: RunOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, NO_COLOR: '1', MESHLESS_DEBUG: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timeoutMs = options.timeoutMs ?? RUN_TIMEOUT_MS;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`meshless ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Parses the JSON document a `--json` run printed. */
export function json<T = Record<string, unknown>>(result: Result): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** The one-line error format: `meshless: <message> (<code>)`. */
export function expectErrorLine(stderr: string, code: string): void {
  const lines = stderr.split('\n').filter((line) => line.length > 0);
  const last = lines.at(-1) ?? '';
  if (!new RegExp(`^meshless: .+ \\(${code}\\)$`).test(last)) {
    throw new Error(`expected a last stderr line "meshless: ... (${code})", got:\n${stderr}`);
  }
  if (/\n\s+at /.test(stderr)) throw new Error(`stderr holds a stack trace:\n${stderr}`);
}

/** A fresh temporary working directory, removed by the returned function. */
export function tempDir(prefix = 'meshless-cli-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The permission bits of a file, as `0600`. */
export function modeOf(path: string): string {
  return `0${(statSync(path).mode & 0o777).toString(8)}`;
}

export async function text(path: string): Promise<string> {
  return await readFile(path, 'utf8');
}

export function write(path: string, content: string, mode = 0o644): string {
  writeFileSync(path, content, { mode });
  return path;
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function stalePackages(): string[] {
  return ['core', 'pki', 'cli'].filter((name) => {
    const dir = join(root, 'packages', name);
    const built = join(dir, 'dist', name === 'cli' ? 'bin.js' : 'index.js');
    if (!existsSync(built)) return true;
    return newest(join(dir, 'src')) > statSync(built).mtimeMs;
  });
}

/**
 * Builds core, pki and cli when dist is missing or older than the sources. Test files run in
 * parallel workers of one vitest process: the first takes a lock directory keyed by that
 * process, the others wait for its stamp, so dist is never rebuilt under a running test.
 */
export async function ensureBuilt(): Promise<void> {
  const key = join(tmpdir(), `meshless-cli-build-${process.ppid}`);
  const stamp = `${key}.done`;
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    if (existsSync(stamp)) {
      const error = await readFile(stamp, 'utf8');
      if (error) throw new Error(`building the CLI failed:\n${error}`);
      return;
    }
    try {
      mkdirSync(`${key}.lock`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('timed out waiting for another test file to build the CLI');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  let error = '';
  const stale = stalePackages();
  if (stale.length > 0) {
    try {
      await promisify(execFile)(process.execPath, [join(root, 'scripts', 'build.mjs'), ...stale], {
        cwd: root,
        timeout: BUILD_TIMEOUT_MS,
      });
    } catch (err) {
      error = String((err as { stderr?: string }).stderr || (err as Error).message);
    }
  }
  writeFileSync(stamp, error);
  if (error) throw new Error(`building the CLI failed:\n${error}`);
}
