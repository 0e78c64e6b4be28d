// CPU pinning, opt-in with BENCH_PIN=1: servers on CPU 0, load generators on CPU 1, so that every
// configuration gets the same placement (the server side, meshless or nginx and its app together,
// on one CPU, as a pod limited to one core). Unpinned runs made here differed by up to 10% in one
// configuration's CPU per request from run to run while each run was consistent in itself; where
// the scheduler puts long-lived processes is one plausible cause. Off by default: on a machine
// shared with other work, a pinned server cannot move away from another process on its CPU, and
// the pinned run made here (while other test suites ran) was far noisier than the unpinned ones.
// Needs taskset and two CPUs.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { underWrapper } from './wrapper.js';

export type Side = 'server' | 'client';

let available: boolean | undefined;

function pinningAvailable(): boolean {
  if (available === undefined) {
    available = process.env.BENCH_PIN === '1' && cpus().length >= 2 && !spawnSync('taskset', ['-V']).error;
  }
  return available;
}

/** The CPU list for a side ('0' for servers, '1' for clients), or undefined when not pinning. */
export function cpuFor(side: Side): string | undefined {
  if (!pinningAvailable()) return undefined;
  return side === 'server' ? '0' : '1';
}

/** `command args` run under `taskset -c <cpu>` when pinning, unchanged otherwise. */
export function pinned(side: Side, command: string, args: string[]): [string, string[]] {
  const cpu = cpuFor(side);
  return cpu === undefined ? [command, args] : underWrapper(['taskset', ['-c', cpu]], command, args);
}
