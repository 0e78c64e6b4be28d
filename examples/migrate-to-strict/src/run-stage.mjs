// One stage: start billing as the stage says, let every caller make its requests, and read the
// coverage view and the refusals the stage produced.
import diagnostics from 'node:diagnostics_channel';
import { authorize, channels } from '@meshless/core';
import { createCoverage } from '@meshless/metrics';
import { startBilling } from './billing.mjs';
import { mtlsCaller, plainCaller } from './callers.mjs';
import { BILLING_ID } from './identities.mjs';
import { CALLERS, POLICY } from './stages.mjs';

/**
 * What one caller's requests came to in a stage.
 * @typedef {object} CallerOutcome
 * @property {string} kind how the caller connects ('createFetch (mTLS)', 'plain node:http')
 * @property {number} ok
 * @property {number} failed
 * @property {string[]} errors the distinct reasons of the failures
 */

/**
 * The result of one stage.
 * @typedef {object} StageResult
 * @property {string} name
 * @property {string} mode billing's listener mode
 * @property {{ checked: number, wouldDeny: number } | undefined} audit in audit mode only
 * @property {import('@meshless/metrics').CoverageSnapshot} coverage
 * @property {Record<string, CallerOutcome>} outcomes by caller name
 * @property {Record<string, number>} handshakeFailures the refused handshakes, by reason
 */

/**
 * Runs `stage` with the sources in `sources` (billing's and one per migrated caller); each caller
 * makes `requests` requests. Resolves with the coverage snapshot, each caller's outcomes, the
 * handshakes billing refused (by reason) and, in audit mode, what enforcement would have refused.
 * @returns {Promise<StageResult>}
 */
export async function runStage(stage, { sources, requests = 10 }) {
  const coverage = createCoverage();
  const handshakeFailures = {};
  const onFailure = ({ reason }) => {
    handshakeFailures[reason] = (handshakeFailures[reason] ?? 0) + 1;
  };
  diagnostics.subscribe(channels.handshakeFailure, onFailure);
  const audit = { checked: 0, wouldDeny: 0 };
  const authorizer = stage.audit
    ? authorize.audit(POLICY, {
        onDecision: ({ wouldAllow }) => {
          audit.checked++;
          if (!wouldAllow) audit.wouldDeny++;
        },
      })
    : POLICY;

  const billing = await startBilling({ source: sources.billing, mode: stage.mode, authorize: authorizer });
  const callers = Object.entries(stage.callers).map(([name, how]) => {
    const { userAgent } = CALLERS[name];
    const options = { port: billing.port, userAgent };
    const caller =
      how === 'mtls'
        ? mtlsCaller({ ...options, source: sources[name], serverId: BILLING_ID })
        : plainCaller(options);
    return { name, caller };
  });
  try {
    // The callers run side by side, each one request after another.
    const counted = await Promise.all(
      callers.map(async ({ name, caller }) => {
        const results = [];
        for (let i = 0; i < requests; i++) results.push(await caller.call());
        const failed = results.filter((r) => !r.ok);
        const errors = [...new Set(failed.map((r) => r.error ?? `HTTP ${r.status}`))];
        return [
          name,
          { kind: caller.kind, ok: results.length - failed.length, failed: failed.length, errors },
        ];
      }),
    );
    const outcomes = Object.fromEntries(counted);
    return {
      name: stage.name,
      mode: stage.mode,
      audit: stage.audit ? audit : undefined,
      coverage: coverage.snapshot(),
      outcomes,
      handshakeFailures,
    };
  } finally {
    for (const { caller } of callers) await caller.close();
    await billing.close();
    diagnostics.unsubscribe(channels.handshakeFailure, onFailure);
    coverage.close();
  }
}
