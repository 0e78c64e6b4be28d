// The SPIFFE IDs of the two services, as cert-manager would issue them in Kubernetes
// (spiffe://<trust domain>/ns/<namespace>/sa/<service account>).
export const TRUST_DOMAIN = 'example.org';
export const ORDERS_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/orders`;
export const BILLING_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/billing`;
