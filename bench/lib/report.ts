// What every scenario records with its numbers: the machine, the software and how busy the machine
// was, then the JSON in bench/results/ and a table on stdout.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nginxVersion } from './nginx.js';
import { cpuFor } from './pinning.js';

const RESULTS = fileURLToPath(new URL('../results', import.meta.url));

function openssl(): string | undefined {
  try {
    return execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** The machine and software the numbers come from; the load average says what else was running. */
export interface Environment extends Record<string, unknown> {
  /** The 1, 5 and 15 minute load averages when it was read. */
  loadAverage: number[];
}

export function environment(): Environment {
  return {
    date: new Date().toISOString(),
    node: process.version,
    openssl: openssl(),
    nodeOpenssl: process.versions.openssl,
    nginx: nginxVersion(),
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
    // Servers pinned to one CPU and load generators to another (see pinning.ts), or not.
    pinning:
      cpuFor('server') === undefined
        ? 'off'
        : `servers on CPU ${cpuFor('server')}, clients on CPU ${cpuFor('client')}`,
  };
}

/** `load average before [...], after [...]`: how busy the machine was while a scenario ran. */
export function loadAverageLine(before: Environment, after: Environment): string {
  return `load average before ${JSON.stringify(before.loadAverage)}, after ${JSON.stringify(after.loadAverage)}`;
}

/**
 * What every results file starts with: the scenario, the machine when it started, and the load
 * average when it ended.
 *
 * @example
 * await writeResults('http', { ...resultsHeader('http-keepalive', before, environment()), runs });
 */
export function resultsHeader(benchmark: string, before: Environment, after: Environment) {
  return { benchmark, environment: before, loadAverageAfter: after.loadAverage };
}

/** Writes `bench/results/<name>.json`. */
export async function writeResults(name: string, data: Record<string, unknown>): Promise<string> {
  await mkdir(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name}.json`);
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** A Markdown table, so that the output can go into docs/performance.md as it is. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  const rule = `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Prints a scenario's report (vitest shows a test's stdout). */
export function print(text: string): void {
  process.stdout.write(`\n${text}\n`);
}

/** Seconds and rounds from the environment, so a quick or a careful run needs no code change. */
export function knob(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** A target of the issues and whether this run met it (every check true). */
export interface Verdict {
  target: string;
  met: boolean;
}

export function verdict(target: string, checks: boolean[]): Verdict {
  return { target, met: checks.every(Boolean) };
}

export function verdictLine(v: Verdict): string {
  return `${v.met ? 'met   ' : 'MISSED'} ${v.target}`;
}
