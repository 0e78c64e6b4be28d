// Starts one of the two services of ../express-to-fastify from the configuration: orders (Express)
// or billing (Fastify), on a source fed by the mounted files, plus the health endpoint.
import { startBilling } from '@meshless-examples/express-to-fastify/src/billing.mjs';
import { startOrders } from '@meshless-examples/express-to-fastify/src/orders.mjs';
import { watchCertificates } from './app-config.mjs';
import { startHealth } from './health.mjs';

/** Starts the service `config` names; resolves with its URL, the source, and `close()`. */
export async function startApp(config, { host = '0.0.0.0', log = console } = {}) {
  const source = await watchCertificates(config);
  source.on('update', (material) =>
    log.info(
      `certificate rotated: now serving ${material.identity.serialNumber} until ${material.notAfter.toISOString()}`,
    ),
  );
  source.on('error', (err) => log.warn(`kept the last good certificate: ${err.code}: ${err.message}`));
  const service = await startService(config, source, host);
  const health = await startHealth({ source, port: config.healthPort, host });
  return {
    url: service.url,
    healthPort: health.port,
    source,
    async close() {
      await health.close();
      await service.close();
      await source.close();
    },
  };
}

async function startService(config, source, host) {
  if (config.service === 'billing') {
    const { app, url } = await startBilling({
      source,
      allowedCaller: config.allowedCaller,
      host,
      port: config.port,
    });
    return { url, close: () => app.close() };
  }
  return startOrders({
    source,
    billingUrl: config.billing.url,
    billingId: config.billing.id,
    trustDomain: config.trustDomain,
    host,
    port: config.port,
  });
}
