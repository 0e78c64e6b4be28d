// CPU time and resident memory of other processes, read from Linux's /proc. A server's CPU per
// request must count every server-side process (nginx master and workers plus the app behind it),
// and it must not include the load generator, so it is read per pid rather than with cpuUsage().
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (almost always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    ticksPerSecond = Number(out) > 0 ? Number(out) : 100;
  }
  return ticksPerSecond;
}

// The fields after the command name, which is in parentheses and may itself hold spaces or ')'.
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU time the process has used so far, in microseconds (0 once it is gone). Summed over its threads
 * from /proc/<pid>/task/<tid>/schedstat, which the scheduler keeps in nanoseconds; stat(5)'s utime and
 * stime come in 10 ms ticks, too coarse for a few seconds of a server that shares its core with others.
 * Falls back to the ticks where schedstat is not kept. Threads that exit between two readings take
 * their time with them: Node's threads (libuv pool, V8 platform) live as long as the process.
 */
export function cpuMicros(pid: number): number {
  const precise = schedstatMicros(pid);
  if (precise !== undefined) return precise;
  const fields = statFields(pid);
  if (!fields) return 0;
  // utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3 (state).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicks();
}

function schedstatMicros(pid: number): number | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let nanos = 0;
  for (const tid of tids) {
    try {
      // "<time on cpu ns> <time waiting ns> <timeslices>"; all zero when the kernel keeps no schedstats.
      nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread exited while we read.
    }
  }
  return nanos > 0 ? nanos / 1000 : undefined;
}

/** The summed CPU time of several processes, in microseconds. */
export function totalCpuMicros(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += cpuMicros(pid);
  return sum;
}

// One "<field>:  <n> kB" line of /proc/<pid>/status, or 0 once the process is gone.
function statusKb(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident set size of a process in kilobytes (VmRSS), or 0 once it is gone. */
export function rssKb(pid: number): number {
  return statusKb(pid, 'VmRSS');
}

/**
 * Anonymous resident memory in kilobytes (RssAnon from /proc/<pid>/status): the process's own heap,
 * stacks and other allocations (V8's heap and malloc among them), private to it except for the pages
 * a forked child (an nginx worker) has not yet written since the fork. 0 once the process is gone.
 * VmRSS is RssAnon + RssFile + RssShmem.
 */
export function rssAnonKb(pid: number): number {
  return statusKb(pid, 'RssAnon');
}

/**
 * File-backed resident memory in kilobytes (RssFile from /proc/<pid>/status): pages of mapped files,
 * mostly the code of the executable and its libraries, which every process mapping the same files
 * shares; counted whole in each process's RSS. 0 once the process is gone.
 */
export function rssFileKb(pid: number): number {
  return statusKb(pid, 'RssFile');
}

/**
 * Proportional set size in kilobytes (Pss from /proc/<pid>/smaps_rollup): resident memory with each
 * shared page divided among the processes that map it, so that nginx's master and workers, which
 * share most of their pages, are not counted twice. 0 where the kernel does not provide it.
 */
export function pssKb(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const match = /^Pss:\s+(\d+)\s+kB/m.exec(rollup);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pids whose parent is `pid` (nginx's workers under its master). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    // fields[1] is field 4 of stat(5): the parent pid.
    if (fields && Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}
