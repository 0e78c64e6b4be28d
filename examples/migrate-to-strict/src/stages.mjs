// The three stages of the rollout, as data: how billing listens and which callers have migrated.
import { authorize } from '@meshless/core';
import { ORDERS_ID, REPORTS_ID } from './identities.mjs';

// Who may call billing once mTLS is enforced. Stages 1 and 2 run it in audit mode: every verified
// caller gets through, and the decisions it would have taken are counted.
export const POLICY = authorize.oneOf(ORDERS_ID, REPORTS_ID);

// Callers keep their user agent when they migrate: it is how the coverage view names the stragglers.
export const CALLERS = {
  orders: { id: ORDERS_ID, userAgent: 'orders/2.3' },
  reports: { id: REPORTS_ID, userAgent: 'reports/1.4' },
  // A forgotten cron job nobody migrated: it has no certificate at all.
  'invoice-export': { userAgent: 'invoice-export/0.9' },
};

export const STAGES = [
  {
    name: 'plaintext',
    // billing already runs on a permissive meshless listener, so its traffic can be counted; on the
    // wire nothing has changed yet: every caller speaks plaintext HTTP.
    mode: 'permissive',
    audit: true,
    callers: { orders: 'plain', reports: 'plain', 'invoice-export': 'plain' },
  },
  {
    name: 'permissive',
    // orders has migrated; reports and the cron job have not: the coverage view lists them.
    mode: 'permissive',
    audit: true,
    callers: { orders: 'mtls', reports: 'plain', 'invoice-export': 'plain' },
  },
  {
    name: 'strict',
    // Everyone who matters has migrated and the policy is enforced; the cron job is now refused.
    mode: 'strict',
    audit: false,
    callers: { orders: 'mtls', reports: 'mtls', 'invoice-export': 'plain' },
  },
];
