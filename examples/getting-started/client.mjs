// frontend: calls orders over mutual TLS, and makes sure it is talking to orders.
import { createFetch } from '@meshless/client';
import { watchCertificateFiles } from '@meshless/watcher';

const source = await watchCertificateFiles({ dir: 'frontend', layout: 'cert-manager' });

// Any server of our CA is not enough: it must present the SPIFFE ID of orders.
const fetch = createFetch({ source, authorizeServer: 'spiffe://example.org/ns/shop/sa/orders' });

const port = Number(process.env.PORT ?? 8443);
const res = await fetch(`https://127.0.0.1:${port}/`);
console.log(res.status, await res.json());

await fetch.close();
await source.close();
