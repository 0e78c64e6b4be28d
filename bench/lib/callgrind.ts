// Instruction counts with valgrind's callgrind, for the instructions scenario. CPU time on a shared
// 2-vCPU machine moves by up to 10% between runs of the same code; the number of instructions a
// process executes for the same work does not, whatever else the machine is doing. Hardware counters
// (perf) are not available on the VMs this runs on, so the count comes from valgrind instead.
//
// A server runs under `valgrind --tool=callgrind` (about 50 times slower); `callgrind_control`
// zeroes its counters when a measured stretch starts and dumps them when it ends, and the dump's
// `totals:` line is the instruction count of every thread of the process over that stretch.
import { execFile, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why callgrind cannot be used here, or undefined when `valgrind` and `callgrind_control` both run. */
export function callgrindUnavailable(): string | undefined {
  for (const command of ['valgrind', 'callgrind_control']) {
    const probe = spawnSync(command, ['--version']);
    if (probe.error) return `${command} not found (Debian package valgrind)`;
  }
  return undefined;
}

/**
 * `valgrind` and its arguments to put in front of `node`: callgrind, counting from the start,
 * dumping to `outFile` (`%p` is the process id). `--smc-check=all-non-file` makes valgrind notice
 * the code V8 writes at run time (its JIT), without which it would run stale translations.
 */
export function callgrindCommand(outFile: string): [string, string[]] {
  // -q: valgrind's banner and summary only clutter the report; its errors are still printed.
  return [
    'valgrind',
    ['-q', '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`],
  ];
}

/** Sets every counter of the callgrind process `pid` to zero. */
export async function zeroCounters(pid: number): Promise<void> {
  await run('callgrind_control', ['--zero', String(pid)]);
}

/**
 * Dumps the counters of the callgrind process `pid` (its `--callgrind-out-file` was `outFile`) and
 * returns the instructions executed since they were last zeroed or dumped. Callgrind numbers its
 * dumps `<outFile>.1`, `.2`, ...: the highest is the one just written.
 */
export async function dumpInstructions(pid: number, outFile: string): Promise<number> {
  await run('callgrind_control', ['--dump', String(pid)]);
  const prefix = `${basename(outFile).replace('%p', String(pid))}.`;
  const dumps = (await readdir(dirname(outFile)))
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
  const newest = dumps.at(-1);
  if (!newest) throw new Error(`callgrind wrote no dump for pid ${pid} in ${dirname(outFile)}`);
  const text = await readFile(join(dirname(outFile), newest), 'utf8');
  const totals = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
  if (!totals) throw new Error(`no totals line in callgrind dump ${newest}`);
  return Number(totals[1]);
}
