import { Command } from 'commander';
import { registerCa } from './commands/ca-create.js';
import { registerCsr } from './commands/csr.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInspect } from './commands/inspect.js';
import { registerIssue } from './commands/issue.js';
import { registerProbe } from './commands/probe.js';
import { registerSign } from './commands/sign.js';
import { registerVerify } from './commands/verify.js';
import { type Context, examples } from './context.js';
import { cliGuidePath } from './docs-location.js';
import { VERSION } from './version.js';

const REGISTRATIONS = [
  registerCa,
  registerIssue,
  registerCsr,
  registerSign,
  registerInspect,
  registerVerify,
  registerProbe,
  registerDoctor,
  registerDemo,
];

/** The command (as `meshless ca create`) whose parsing raised a commander error. */
const commandOfError = new WeakMap<object, string>();

/**
 * The `meshless` command line: every command registered, output routed to the context's streams,
 * and commander's own exits turned into exceptions so {@link run} decides the exit code and prints
 * errors as one line.
 *
 * @example
 * ```ts
 * const program = buildProgram(createContext(processIo()));
 * await program.parseAsync(['inspect', 'tls.crt'], { from: 'user' });
 * ```
 */
export function buildProgram(context: Context): Command {
  const { io } = context;
  const program = new Command('meshless')
    .description(
      'mesh-grade mutual TLS tooling: a dev CA, issuing, inspecting, verifying, probing and diagnosing',
    )
    .version(VERSION, '-v, --version', 'print the version')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // run() prints errors itself, as one line with a code.
      outputError: () => undefined,
    })
    .addHelpText(
      'after',
      examples(
        [
          'meshless ca create --trust-domain example.org',
          'meshless issue --ca meshless-ca --spiffe-id spiffe://example.org/ns/prod/sa/web --ip 127.0.0.1 --out certs/web',
          'meshless inspect certs/web/tls.crt',
          'meshless verify --cert certs/web/tls.crt --key certs/web/tls.key --ca certs/web/ca.crt',
          'meshless probe https://127.0.0.1:8443 --cert certs/web/tls.crt --key certs/web/tls.key --ca certs/web/ca.crt',
          'meshless doctor --dir /var/run/secrets/tls',
        ],
        `Exit status: 0 ok, 1 a check failed, 2 usage error (probe: 3 authenticated but not authorized).\nSet NO_COLOR to turn colour off. Documentation: ${cliGuidePath()}`,
      ),
    );
  for (const register of REGISTRATIONS) register(program, context);
  program.hook('preAction', (_program, action) => {
    context.command = pathOf(action);
  });
  forEachCommand(program, (command) => {
    command.exitOverride((err) => {
      commandOfError.set(err, pathOf(command));
      throw err;
    });
  });
  return program;
}

/**
 * The command whose parsing raised `error`, as typed (`meshless ca create`), when known.
 *
 * @example
 * ```ts
 * commandOf(err); // 'meshless issue'
 * ```
 */
export function commandOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? commandOfError.get(error) : undefined;
}

function forEachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const sub of command.commands) forEachCommand(sub, visit);
}

function pathOf(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent)
    names.unshift(current.name());
  return names.join(' ');
}
