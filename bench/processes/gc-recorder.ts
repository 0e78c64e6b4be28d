// Records this process's garbage collection pauses (Node's `gc` performance entries), so that a
// benchmark can ask which of them fell inside a measured window. A pause of the only JavaScript
// thread delays every request in flight, in a server and in a load generator alike.
import { constants, PerformanceObserver, performance } from 'node:perf_hooks';
import type { GcSummary } from '../lib/messages.js';

interface GcPause {
  /** When it started, in ms since the epoch (comparable across processes). */
  atMs: number;
  ms: number;
  major: boolean;
}

// The newest pauses only: a run lasts minutes, with some 20 to 150 scavenges a second.
const KEPT = 20_000;
const pauses: GcPause[] = [];

/**
 * Starts recording; call once per process.
 *
 * @example
 * recordGcPauses();
 * // ... later, for a window measured between two Date.now()-like times:
 * const { scavenges, majors } = gcBetween(fromMs, toMs);
 */
export function recordGcPauses(): void {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      // Incremental marking steps and weak callbacks belong to the mark-compact they serve; the pauses
      // that stop the thread are the scavenges and the mark-compact's final pause.
      const major = kind === constants.NODE_PERFORMANCE_GC_MAJOR;
      if (!major && kind !== constants.NODE_PERFORMANCE_GC_MINOR) continue;
      pauses.push({ atMs: performance.timeOrigin + entry.startTime, ms: entry.duration, major });
    }
    if (pauses.length > KEPT) pauses.splice(0, pauses.length - KEPT);
  }).observe({ entryTypes: ['gc'] });
}

/** The recorded pauses that started in [fromMs, toMs), summed by kind. */
export function gcBetween(fromMs: number, toMs: number): GcSummary {
  const summary: GcSummary = { scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0, maxPauseMs: 0 };
  for (const pause of pauses) {
    if (pause.atMs < fromMs || pause.atMs >= toMs) continue;
    if (pause.major) {
      summary.majors++;
      summary.majorMs += pause.ms;
    } else {
      summary.scavenges++;
      summary.scavengeMs += pause.ms;
    }
    summary.maxPauseMs = Math.max(summary.maxPauseMs, pause.ms);
  }
  return summary;
}
