// What the server says about the handshakes it refused: meshless publishes each on the
// `meshless:handshake-failure` diagnostics channel with a reason of its own (no_certificate,
// unknown_ca, expired, ...), the label of meshless_handshake_failures_total. The demo shows that
// instead of what a raw TLS client sees (a closed connection).
import diagnostics from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import { channels } from '@meshless/core';

/** Starts recording; `next()` resolves with the reason of the next refusal (or 'none seen'). */
export function recordHandshakeFailures() {
  const reasons = [];
  let read = 0;
  const onFailure = (message) => reasons.push(message.reason);
  diagnostics.subscribe(channels.handshakeFailure, onFailure);
  return {
    async next(timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (reasons.length <= read && Date.now() < deadline) await sleep(10);
      return reasons.length > read ? reasons[read++] : 'none seen';
    },
    async close() {
      diagnostics.unsubscribe(channels.handshakeFailure, onFailure);
    },
  };
}
