// The foreign peers of the interop tests are real programs: curl, the openssl CLI, python3, Go and
// nginx. A missing one fails the suite with the Debian package to install; it never skips.
import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The programs the interop tests drive, and the Debian package each comes from. */
export const TOOLS = {
  curl: 'curl',
  openssl: 'openssl',
  python3: 'python3',
  go: 'golang-go',
  nginx: 'nginx-light',
} as const;

export type ToolName = keyof typeof TOOLS;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Besides PATH: nginx lives in /usr/sbin, which a non-root PATH often lacks; Debian's go in /usr/lib/go-*/bin.
function extraDirs(name: ToolName): string[] {
  const dirs = ['/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  if (name === 'go') {
    try {
      for (const entry of readdirSync('/usr/lib'))
        if (/^go(-[\d.]+)?$/.test(entry)) dirs.push(`/usr/lib/${entry}/bin`);
    } catch {
      // no /usr/lib/go-*: PATH only
    }
    dirs.push('/usr/local/go/bin');
  }
  return dirs;
}

/**
 * The absolute path of a peer program. Throws, naming the Debian package, when it is not installed:
 * the interop tests must fail, not skip, when a peer is missing.
 */
export function requireTool(name: ToolName): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs(name)];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  throw new Error(
    `interop peer "${name}" is not installed: install the Debian package ${TOOLS[name]} ` +
      `(apt-get install ${TOOLS[name]}; .ci/run does this). The interop tests fail rather than skip without it.`,
  );
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs a program to completion without blocking the event loop (the meshless side of each test lives
 * in this process), killing it after `timeoutMs`. Never rejects for a non-zero exit: callers assert.
 */
export async function run(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 15_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {
      // the program may exit before reading its input
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Throws with the program's output unless it exited 0. */
export function expectSuccess(result: RunResult, what: string): RunResult {
  if (result.code !== 0) {
    throw new Error(
      `${what} failed (exit ${result.code}${result.signal ? `, ${result.signal}` : ''}${result.timedOut ? ', timed out' : ''}):\n${result.stderr}${result.stdout}`,
    );
  }
  return result;
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for peers that cannot listen on port 0. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory and a function that removes it. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `meshless-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
