// The SPIFFE IDs of the example, as the registration entries in ../spire/entries.sh issue them.
export const TRUST_DOMAIN = 'example.org';
export const ORDERS_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/orders`;
export const FRONTEND_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/frontend`;
