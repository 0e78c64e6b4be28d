import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import { MeshlessError } from './errors.js';
import { peerChainsTo, presentedIssuers, trustedRoots } from './federation.js';
import { LruCache } from './lru.js';
import type { TlsMaterial } from './material.js';
import {
  assertVerdictCurrent,
  type PeerVerdict,
  trustHashOf,
  verifyPeerCertificate,
} from './peer-verification.js';

// Enough for every client certificate a busy server sees within a session's lifetime; a resumed
// session whose verdict was evicted is re-judged from its leaf alone (see admitResumed).
const VERDICTS = 16_384;

/**
 * Decides, for each verified TLS connection, whether its peer certificate is admitted: on a full
 * handshake by {@link verifyPeerCertificate} (X509-SVID profile, key policy, trust domain, validity)
 * over the chain the peer presented; on a resumed one, which shows the leaf at most, by the verdict
 * of the full handshake that made the session, re-judged by the clock.
 *
 * Sessions are bound to one admission by the TLS session id context ({@link sessionIdContext}): a
 * session made by another server, in another mode or under another trust bundle does not resume
 * (OpenSSL makes a full handshake instead), so that a verdict kept here covers every resumption.
 *
 * @example
 * ```ts
 * const admission = new PeerAdmission();
 * const refusal = admission.admit(leaf, socket.isSessionReused(), source.current());
 * if (refusal) socket.destroy();
 * ```
 */
export class PeerAdmission {
  readonly #verdicts = new LruCache<string, PeerVerdict>(VERDICTS);
  /** Random per server: its sessions resume on this server only, where their verdicts are. */
  readonly #nonce = randomBytes(16).toString('hex');

  /**
   * The refusal of a peer certificate OpenSSL verified, or undefined to admit it. `presented` is the
   * chain the peer sent after its leaf, by default read from the leaf's `issuerCertificate` links.
   */
  admit(
    leaf: X509Certificate,
    resumed: boolean,
    material: TlsMaterial,
    presented: readonly X509Certificate[] = resumed ? [] : presentedIssuers(leaf),
  ): MeshlessError | undefined {
    try {
      if (resumed) this.#admitResumed(leaf, material);
      else this.#remember(verifyPeerCertificate(material, leaf, presented));
      return undefined;
    } catch (error) {
      if (error instanceof MeshlessError) return error;
      throw error;
    }
  }

  /**
   * The TLS session id context for a server in `mode` trusting what `material` trusts. OpenSSL
   * resumes a session only under the context it was made in (TLS 1.2 and 1.3 alike), so a change of
   * trust bundle or mode, or a ticket from another server sharing the ticket keys, means a full
   * handshake rather than a resumption. The application's own `sessionIdContext`, if any, is mixed in.
   */
  sessionIdContext(material: TlsMaterial, mode: string, application = ''): string {
    return createHash('sha256')
      .update(`meshless-session/1\0${this.#nonce}\0${mode}\0${trustHashOf(material)}\0${application}`)
      .digest('hex')
      .slice(0, 32);
  }

  #remember(verdict: PeerVerdict): void {
    this.#verdicts.set(`${verdict.trust}|${verdict.fingerprint256}`, verdict);
  }

  // A resumed session was made under the same trust (the session id context says so) by a full
  // handshake of this server. Its verdict is kept, unless evicted or never given (a full handshake
  // meshless refused after OpenSSL had already sent the client a ticket): then only a leaf that a
  // current root signed directly can be judged again; anything else is refused, and the client's
  // next connection makes a full handshake.
  #admitResumed(leaf: X509Certificate, material: TlsMaterial): void {
    const verdict = this.#verdicts.get(`${trustHashOf(material)}|${leaf.fingerprint256}`);
    if (verdict) {
      assertVerdictCurrent(verdict, leaf.subject.replace(/\n/g, ', '));
      return;
    }
    if (!peerChainsTo(leaf, trustedRoots(material), [])) {
      throw new MeshlessError(
        'ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN',
        `refusing a resumed TLS session of peer certificate ${leaf.fingerprint256}: this server holds no verdict of the full handshake that made it, and its chain cannot be checked again without one`,
        { input: 'peer', fingerprint: leaf.fingerprint256, resumed: true },
      );
    }
    this.#remember(verifyPeerCertificate(material, leaf, []));
  }
}
