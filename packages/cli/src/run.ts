import { CommanderError } from 'commander';
import { createContext } from './context.js';
import { codeOf, errorLine, exitCodeOf, messageOf } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type Io, processIo } from './io.js';
import { writeJson } from './output/json.js';
import { buildProgram, commandOf } from './program.js';

/**
 * Runs `meshless` with the given arguments (without `node` and the script) and resolves with the
 * exit code: 0 ok, 1 a check failed, 2 usage error. It never throws and never exits the process:
 * errors are printed as one line, `meshless: <message> (<code>)`, on stderr (and, with `--json`,
 * as `{ "ok": false, "error": { code, message } }` on stdout). `MESHLESS_DEBUG=1` adds the stack.
 *
 * @example
 * ```ts
 * import { run } from '@meshless/cli';
 * const code = await run(['verify', '--cert', 'tls.crt', '--key', 'tls.key', '--ca', 'ca.crt']);
 * ```
 */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const context = createContext(io);
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    const exitCode = exitCodeOf(error);
    // --help and --version were printed by commander already.
    if (exitCode === EXIT.ok) return exitCode;
    const command = commandOf(error) ?? context.command ?? 'meshless';
    const hint = exitCode === EXIT.usage ? `see '${command} --help'` : undefined;
    if (argv.includes('--json'))
      writeJson(io.stdout, { ok: false, error: { code: codeOf(error), message: messageOf(error) } });
    io.stderr.write(`${errorLine(displayed(error), hint)}\n`);
    if (io.env.MESHLESS_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return exitCode;
  }
}

// A command group run without a subcommand makes commander print its help and exit with
// "(outputHelp)": say what is missing instead.
function displayed(error: unknown): unknown {
  if (error instanceof CommanderError && error.code === 'commander.help') {
    return Object.assign(new CommanderError(EXIT.usage, error.code, 'a command is required'), {});
  }
  return error;
}
