// The servers' garbage collections inside each measured window, and what they do to the slowest
// requests. A window's p99 is the slowest 1% of its requests; a pause of the server's only thread
// delays every request in flight, so one mark-compact of a few milliseconds in a one-second window
// can decide its p99. Recording which windows had one lets the comparison of two servers' p99 be
// split into windows with and without such a pause, instead of guessing.
import type { RunningServer } from './child.js';
import type { GcSummary, LoadResult } from './messages.js';
import { formatRatioOver, pairedRatioOver, round, spread } from './stats.js';

const NONE: GcSummary = { scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0, maxPauseMs: 0 };

/** The collections of `servers` (summed) that started inside `window`'s measured span. */
export async function gcDuring(
  servers: readonly RunningServer[],
  window: Pick<LoadResult, 'windowFromMs' | 'windowToMs'>,
): Promise<GcSummary> {
  const summaries = await Promise.all(
    servers.map((server) => server.gcBetween(window.windowFromMs, window.windowToMs)),
  );
  return summaries.reduce(
    (sum, s) => ({
      scavenges: sum.scavenges + s.scavenges,
      scavengeMs: sum.scavengeMs + s.scavengeMs,
      majors: sum.majors + s.majors,
      majorMs: sum.majorMs + s.majorMs,
      maxPauseMs: Math.max(sum.maxPauseMs, s.maxPauseMs),
    }),
    NONE,
  );
}

const gcOf = (r: LoadResult): GcSummary => r.serverGc ?? NONE;

/**
 * One row per configuration: in how many windows the server ran a mark-compact, and per window the
 * scavenges, the total pause and the longest pause (median, and the longest over the windows).
 *
 * @example
 * table(['configuration', ...GC_HEADER], gcRows([['meshless @256', runs['meshless 256']]]));
 */
export function gcRows(series: readonly (readonly [string, readonly LoadResult[]])[]): (string | number)[][] {
  return series.map(([label, runs]) => {
    const gcs = runs.map(gcOf);
    const paused = spread(gcs.map((g) => g.scavengeMs + g.majorMs));
    return [
      label,
      `${gcs.filter((g) => g.majors > 0).length} of ${gcs.length}`,
      round(spread(gcs.map((g) => g.scavenges)).median, 1),
      round(paused.median, 1),
      round(Math.max(...gcs.map((g) => g.maxPauseMs)), 1),
    ];
  });
}

export const GC_HEADER = [
  'windows with a mark-compact',
  'scavenges / window',
  'GC pause ms / window',
  'longest pause ms',
] as const;

/**
 * The p99 ratio of `candidate` to `baseline`, paired round by round, split by which of the two
 * windows of a round had a mark-compact: none, only the candidate, only the baseline, both.
 */
export function p99ByMajorGc(candidate: readonly LoadResult[], baseline: readonly LoadResult[]): string[] {
  const groups = {
    neither: [] as number[],
    candidate: [] as number[],
    baseline: [] as number[],
    both: [] as number[],
  };
  for (let i = 0; i < Math.min(candidate.length, baseline.length); i++) {
    const c = candidate[i]!;
    const b = baseline[i]!;
    const inC = gcOf(c).majors > 0;
    const inB = gcOf(b).majors > 0;
    const group = inC ? (inB ? 'both' : 'candidate') : inB ? 'baseline' : 'neither';
    groups[group].push(i);
  }
  const p99 = (runs: readonly LoadResult[]) => runs.map((r) => r.latencyMs.p99);
  return (['neither', 'candidate', 'baseline', 'both'] as const).map((group) =>
    formatRatioOver(pairedRatioOver(p99(candidate), p99(baseline), groups[group])),
  );
}

export const P99_BY_GC_HEADER = [
  'p99 ratio, no mark-compact in either window',
  'only in the candidate’s',
  'only in the baseline’s',
  'in both',
] as const;
