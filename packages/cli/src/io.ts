/**
 * Where a command reads and writes. The binary passes the process's streams; tests and embedders
 * can pass their own, so no command touches `process` directly.
 *
 * @example
 * ```ts
 * const io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
 * await run(['inspect', 'tls.crt'], io);
 * ```
 */
export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
}

/** A writable text stream; `isTTY` decides whether colour is used. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * The process's own streams and environment.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), processIo());
 * ```
 */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}
