import type { Refusal } from '@meshless/server';

/** The stable codes of the plugin's refusals. */
export type MeshlessFastifyErrorCode = 'FST_MESHLESS_PEER_UNAUTHENTICATED' | 'FST_MESHLESS_PEER_FORBIDDEN';

const CODES = {
  peer_unauthenticated: 'FST_MESHLESS_PEER_UNAUTHENTICATED',
  peer_forbidden: 'FST_MESHLESS_PEER_FORBIDDEN',
} as const satisfies Record<Refusal['error'], MeshlessFastifyErrorCode>;

const BRAND = Symbol.for('meshless.MeshlessPeerError');

/**
 * A refused request as a Fastify error: `statusCode` 401 or 403 and a stable `code`. The plugin hands
 * it to Fastify's error handler when registered with `useErrorHandler: true`; otherwise it answers
 * the refusal itself and this class is only useful to match on. `instanceof` works across copies of
 * this package.
 *
 * @example
 * ```ts
 * app.setErrorHandler((err, request, reply) => {
 *   if (err instanceof MeshlessPeerError) return reply.code(err.statusCode).send({ message: 'mTLS: ' + err.reason });
 *   return reply.send(err);
 * });
 * ```
 */
export class MeshlessPeerError extends Error {
  override name = 'MeshlessPeerError';
  readonly code: MeshlessFastifyErrorCode;
  readonly statusCode: 401 | 403;
  /** Why: the authorizer's reason, or that there is no verified peer certificate. */
  readonly reason: string;

  constructor(refusal: Refusal) {
    super(refusal.reason);
    this.code = CODES[refusal.error];
    this.statusCode = refusal.status;
    this.reason = refusal.reason;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
