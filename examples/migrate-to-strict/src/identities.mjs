// billing is the service being moved to strict mTLS; orders (a service) and reports (a nightly job)
// call it. SPIFFE IDs as cert-manager would issue them in Kubernetes.
export const TRUST_DOMAIN = 'example.org';
export const BILLING_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/billing`;
export const ORDERS_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/orders`;
export const REPORTS_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/reports`;
