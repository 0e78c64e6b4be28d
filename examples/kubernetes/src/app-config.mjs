// The app's configuration, all from the environment the Deployment sets: where the certificate,
// key and trust bundle are mounted, which service to run, and whom it talks to.
import { watchCertificateFiles } from '@meshless/watcher';

/** The environment variables the app reads; the Deployments must set them (test/manifests.test.ts checks). */
export const ENV = Object.freeze({
  service: 'MESHLESS_SERVICE', // orders | billing
  trustDomain: 'MESHLESS_TRUST_DOMAIN',
  cert: 'MESHLESS_TLS_CERT', // in the cert-manager secret volume
  key: 'MESHLESS_TLS_KEY', // in the same volume
  ca: 'MESHLESS_TLS_CA', // in the trust-manager ConfigMap volume
  port: 'PORT',
  healthPort: 'HEALTH_PORT',
  billingUrl: 'BILLING_URL', // orders only
  billingId: 'BILLING_SPIFFE_ID', // orders only
  allowedCaller: 'ALLOWED_CALLER_SPIFFE_ID', // billing only
});

const SERVICES = ['orders', 'billing'];

/**
 * The app's configuration. `billing` is set for orders only, `allowedCaller` for billing only.
 * @typedef {object} AppConfig
 * @property {string} service
 * @property {string} trustDomain
 * @property {{ cert: string, key: string, ca: string }} tls
 * @property {number} port
 * @property {number} healthPort
 * @property {{ url: string, id: string }} [billing]
 * @property {string} [allowedCaller]
 */

/**
 * Reads and checks the configuration; throws a TypeError naming the variable that is missing or
 * wrong, so a misconfigured pod fails at start with a clear message.
 * @returns {AppConfig}
 */
export function configFromEnv(env = process.env) {
  const get = (name) => {
    const value = env[ENV[name]];
    if (value === undefined || value === '') throw new TypeError(`${ENV[name]} is not set`);
    return value;
  };
  const port = (name) => {
    const value = Number(get(name));
    if (!Number.isInteger(value) || value < 0 || value > 65535)
      throw new TypeError(`${ENV[name]} must be a port number, not ${JSON.stringify(env[ENV[name]])}`);
    return value;
  };
  const service = get('service');
  if (!SERVICES.includes(service))
    throw new TypeError(
      `${ENV.service} must be one of ${SERVICES.join(', ')}, not ${JSON.stringify(service)}`,
    );
  const config = {
    service,
    trustDomain: get('trustDomain'),
    tls: { cert: get('cert'), key: get('key'), ca: get('ca') },
    port: port('port'),
    healthPort: port('healthPort'),
  };
  if (service === 'orders') config.billing = { url: get('billingUrl'), id: get('billingId') };
  if (service === 'billing') config.allowedCaller = get('allowedCaller');
  return config;
}

/**
 * The certificate source: the three files as mounted. The certificate and key come from one
 * secret volume and the bundle from another volume, so they are given as three paths (the
 * watcher watches both directories; each rotates on its own).
 */
export function watchCertificates(config) {
  const { cert, key, ca } = config.tls;
  return watchCertificateFiles({ cert, key, ca });
}
