import { assertKnownOptions, invalidOption, MeshlessError, parseSpiffeId } from '@meshless/core';
import type { X509Svid } from './snapshot.js';

/** What {@link pickSvid} and a `pick` function see of each SVID: never its key. */
export interface SvidChoice {
  readonly spiffeId: string;
  readonly hint: string;
}

/**
 * Which SVID to serve when the workload is entitled to several: by SPIFFE ID, by hint (both must match
 * when both are given), or by a function over the SVIDs of each response. Without it, the first SVID
 * of each response is served, the Workload API's default.
 *
 * @example
 * ```ts
 * const byId: SvidPick = { spiffeId: 'spiffe://example.org/ns/prod/sa/web' };
 * const byHint: SvidPick = { hint: 'internal' };
 * const custom: SvidPick = (svids) => svids.find((s) => s.spiffeId.endsWith('/sa/web'));
 * ```
 */
export type SvidPick =
  | { spiffeId?: string; hint?: string }
  | ((svids: readonly SvidChoice[]) => SvidChoice | undefined);

/**
 * Validates a `pick` option at construction: bad options throw `ERR_MESHLESS_INVALID_OPTION` (or a
 * SPIFFE ID error) at once.
 *
 * @example
 * ```ts
 * checkPick({ spiffeId: 'spiffe://example.org/ns/prod/sa/web' });
 * ```
 */
export function checkPick(pick: SvidPick | undefined): void {
  const where = 'workloadApiSource';
  if (pick === undefined || typeof pick === 'function') return;
  if (!pick || typeof pick !== 'object') {
    throw invalidOption(where, 'pick', pick, 'an object { spiffeId?, hint? } or a function');
  }
  assertKnownOptions(`${where}: pick`, pick, ['spiffeId', 'hint']);
  if (pick.spiffeId === undefined && pick.hint === undefined) {
    throw invalidOption(where, 'pick', pick, 'an object with a spiffeId, a hint, or both');
  }
  if (pick.spiffeId !== undefined) parseSpiffeId(pick.spiffeId);
  if (pick.hint !== undefined && (typeof pick.hint !== 'string' || pick.hint === '')) {
    throw invalidOption(where, 'pick.hint', pick.hint, 'a non-empty string');
  }
}

/**
 * The SVID of a response that `pick` selects.
 *
 * @throws MeshlessError `ERR_MESHLESS_SVID_WITHDRAWN` when none matches: the SVID the workload serves
 * is not (or no longer) granted.
 * @example
 * ```ts
 * const svid = pickSvid(snapshot.svids, { hint: 'internal' });
 * ```
 */
export function pickSvid(svids: readonly X509Svid[], pick: SvidPick | undefined): X509Svid {
  let chosen: X509Svid | undefined;
  if (pick === undefined) chosen = svids[0];
  else if (typeof pick === 'function') {
    const choice = pick(svids.map((s) => Object.freeze({ spiffeId: s.spiffeId, hint: s.hint })));
    chosen = choice && svids.find((s) => s.spiffeId === choice.spiffeId && s.hint === choice.hint);
  } else {
    chosen = svids.find(
      (s) =>
        (pick.spiffeId === undefined || s.spiffeId === pick.spiffeId) &&
        (pick.hint === undefined || s.hint === pick.hint),
    );
  }
  if (chosen) return chosen;
  const expected = typeof pick === 'function' ? 'the pick function' : JSON.stringify(pick);
  const actual = svids.map((s) => (s.hint ? `${s.spiffeId} (${s.hint})` : s.spiffeId)).join(', ');
  throw new MeshlessError(
    'ERR_MESHLESS_SVID_WITHDRAWN',
    `the Workload API no longer grants the SVID picked by ${expected}; it offers ${actual || 'none'}`,
    { input: 'pick', expected, actual },
  );
}
