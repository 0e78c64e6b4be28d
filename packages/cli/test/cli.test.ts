// The command line itself: --version, --help on every command, usage errors (exit 2, one line),
// and plain output without colour when NO_COLOR is set or stdout is not a terminal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, expectErrorLine, json, meshless, root } from './helpers.js';

beforeAll(ensureBuilt);

const COMMANDS = [
  ['ca'],
  ['ca', 'create'],
  ['issue'],
  ['csr'],
  ['sign'],
  ['inspect'],
  ['verify'],
  ['probe'],
  ['doctor'],
  ['demo'],
];

describe('meshless', () => {
  it('prints its version with --version and -v', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const result = await meshless([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
  });

  it('lists every command with examples and the exit codes in --help', async () => {
    const result = await meshless(['--help']);
    expect(result.code).toBe(0);
    for (const [name] of COMMANDS) expect(result.stdout).toContain(`  ${name}`);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('0 ok, 1 a check failed, 2 usage error');
  });

  it.each(COMMANDS.map((c) => [c.join(' '), c]))(
    'has --help with examples for %s',
    async (_name, command) => {
      const result = await meshless([...(command as string[]), '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: meshless ${(command as string[]).join(' ')}`);
      expect(result.stdout).toContain('Examples:\n  $ meshless');
      expect(result.stderr).toBe('');
    },
  );

  it('answers `meshless help <command>` too', async () => {
    const result = await meshless(['help', 'verify']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: meshless verify');
  });
});

describe('usage errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /a command is required; see 'meshless --help'/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a group without its command', ['ca'], /a command is required; see 'meshless ca --help'/],
    ['an unknown option', ['inspect', '--frob', 'x.pem'], /unknown option '--frob'/],
    [
      'a missing required option',
      ['issue', '--ca', 'dir'],
      /required option '--spiffe-id <id>' not specified/,
    ],
    ['a missing argument', ['inspect'], /missing required argument 'file'/],
    ['a malformed SPIFFE ID', ['issue', '--ca', 'd', '--spiffe-id', 'http://x/y'], /invalid SPIFFE ID/],
    [
      'a malformed duration',
      ['ca', 'create', '--trust-domain', 'example.org', '--ttl', '10'],
      /invalid duration "10"/,
    ],
    [
      'an unknown key algorithm',
      ['ca', 'create', '--trust-domain', 'example.org', '--key', 'dsa'],
      /Allowed choices/,
    ],
    [
      'an unknown layout',
      ['issue', '--ca', 'd', '--spiffe-id', 'spiffe://a/b', '--layout', 'x'],
      /Allowed choices/,
    ],
    ['an invalid trust domain', ['ca', 'create', '--trust-domain', 'Example.ORG'], /trust domain/i],
    ['doctor without files', ['doctor'], /give --dir DIR, or all of --cert, --key and --ca/],
    ['probe without https', ['probe', 'http://127.0.0.1:1'], /only https:\/\/ URLs/],
    [
      'probe with --cert but no --key',
      ['probe', 'https://127.0.0.1:1', '--cert', 'a'],
      /--cert and --key go together/,
    ],
    ['an extra argument', ['inspect', 'a.pem', 'b.pem'], /too many arguments/],
  ];
  it.each(cases)('exits 2 with one line for %s', async (_what, args, message) => {
    const result = await meshless(args);
    expect(result.code).toBe(2);
    expectErrorLine(result.stderr, 'ERR_MESHLESS_USAGE');
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(message);
  });

  it('names the command whose help to read', async () => {
    const result = await meshless(['issue', '--ca', 'dir']);
    expect(result.stderr).toContain("see 'meshless issue --help'");
  });

  it('prints the error as JSON too with --json', async () => {
    const result = await meshless(['verify', '--json', '--cert', 'a']);
    expect(result.code).toBe(2);
    expect(json(result)).toEqual({
      ok: false,
      error: { code: 'ERR_MESHLESS_USAGE', message: expect.any(String) },
    });
  });
});

describe('output', () => {
  it('has no colour when NO_COLOR is set, or when stdout is not a terminal', async () => {
    const envs: Record<string, string>[] = [{ NO_COLOR: '1' }, { NO_COLOR: '', FORCE_COLOR: '1' }];
    for (const env of envs) {
      const result = await meshless(['inspect', join(root, 'nonexistent.pem')], { env });
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes on purpose
      expect(result.stdout + result.stderr).not.toMatch(/\u001b\[/);
    }
  });

  it('exits 1 with one line, no stack trace, for a failure', async () => {
    const result = await meshless(['inspect', join(root, 'nonexistent.pem')]);
    expect(result.code).toBe(1);
    expectErrorLine(result.stderr, 'ERR_MESHLESS_FILE_UNREADABLE');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
