// Prints a stage the way an operator reads a rollout: the share of requests by security label,
// who has not migrated yet, and who was refused.
const percent = (share) => `${(share * 100).toFixed(1)}%`.padStart(6);

/** The lines that describe one stage's result. */
export function stageReport(result, number) {
  const { coverage, outcomes, audit, handshakeFailures } = result;
  const lines = [`Stage ${number}: ${result.name} (billing mode '${result.mode}')`];
  lines.push('  security    requests  share');
  for (const label of ['mtls', 'tls', 'plaintext'])
    lines.push(
      `  ${label.padEnd(10)} ${String(coverage.byLabel[label]).padStart(9)}  ${percent(coverage.shares[label])}`,
    );
  lines.push(`  mTLS coverage: ${percent(coverage.shares.mtls).trim()} of ${coverage.total} requests`);
  if (coverage.unmigrated.length === 0) lines.push('  unmigrated callers: none');
  else {
    lines.push('  unmigrated callers:');
    for (const c of coverage.unmigrated)
      lines.push(
        `    ${c.security.padEnd(9)} ${c.remoteAddress.padEnd(10)} ${c.userAgent.padEnd(20)} ${c.requests} requests`,
      );
  }
  lines.push('  callers:');
  for (const [name, o] of Object.entries(outcomes)) {
    const refused = o.failed ? `, ${o.failed} refused (${o.errors.join(', ')})` : '';
    lines.push(`    ${name.padEnd(15)} ${o.kind.padEnd(19)} ${o.ok} answered${refused}`);
  }
  const reasons = Object.entries(handshakeFailures);
  if (reasons.length > 0)
    lines.push(`  handshakes refused by billing: ${reasons.map(([r, n]) => `${n} ${r}`).join(', ')}`);
  if (audit)
    lines.push(
      `  authorizer in audit mode: ${audit.checked} mTLS connections checked, ${audit.wouldDeny} would be refused`,
    );
  return lines.join('\n');
}
