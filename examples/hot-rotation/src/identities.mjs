// The two workloads of the example, named as cert-manager would name them in Kubernetes.
export const TRUST_DOMAIN = 'example.org';
export const SERVICE_ID = `spiffe://${TRUST_DOMAIN}/ns/demo/sa/service`;
export const CLIENT_ID = `spiffe://${TRUST_DOMAIN}/ns/demo/sa/client`;
