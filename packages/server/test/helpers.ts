// The HTTPS test client moved to test/support so the Express and Fastify tests share it.

export type { Answer, ClientTls } from '../../../test/support/https-client.js';
export {
  close,
  get,
  handshakeError,
  keepAliveAgent,
  listen,
  within,
} from '../../../test/support/https-client.js';
