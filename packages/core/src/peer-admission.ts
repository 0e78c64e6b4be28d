import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import { MeshlessError } from './errors.js';
import { presentedIssuers } from './federation.js';
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
   * Judges a peer certificate OpenSSL verified: `{ verdict }` to admit it (its `notAfter` is when the
   * connection's peer stops being valid), or `{ refusal }`. `presented` is what the peer sent after
   * its leaf, by default read from the leaf's `issuerCertificate` links.
   */
  admit(
    leaf: X509Certificate,
    resumed: boolean,
    material: TlsMaterial,
    presented: readonly X509Certificate[] = resumed ? [] : presentedIssuers(leaf),
  ): Admission {
    try {
      if (resumed) return { verdict: this.#admitResumed(leaf, material) };
      const verdict = verifyPeerCertificate(material, leaf, presented);
      this.#remember(verdict);
      return { verdict };
    } catch (error) {
      if (error instanceof MeshlessError) return { refusal: error };
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

  // Keyed by leaf, not by session: when the same leaf came with chains of different lifetimes, the
  // sessions of either are judged by the shorter one (fail closed).
  #remember(verdict: PeerVerdict): void {
    const key = `${verdict.trust}|${verdict.fingerprint256}`;
    const known = this.#verdicts.get(key);
    this.#verdicts.set(
      key,
      known
        ? {
            ...verdict,
            notBefore: Math.max(known.notBefore, verdict.notBefore),
            notAfter: Math.min(known.notAfter, verdict.notAfter),
          }
        : verdict,
    );
  }

  // A resumed session was made under the same trust (the session id context says so) by a full
  // handshake of this server. Its verdict is kept, unless evicted or never given (a full handshake
  // meshless refused after OpenSSL had already sent the client a ticket): then only a leaf that a
  // current root signed directly can be judged again; anything else is refused, and the client's
  // next connection makes a full handshake.
  #admitResumed(leaf: X509Certificate, material: TlsMaterial): PeerVerdict {
    const verdict = this.#verdicts.get(`${trustHashOf(material)}|${leaf.fingerprint256}`);
    if (verdict) {
      assertVerdictCurrent(verdict, (leaf.subject ?? '').replace(/\n/g, ', '));
      return verdict;
    }
    try {
      const judged = verifyPeerCertificate(material, leaf, []);
      this.#remember(judged);
      return judged;
    } catch (error) {
      if (!(error instanceof MeshlessError) || error.code !== 'ERR_MESHLESS_CHAIN_UNTRUSTED') throw error;
      throw new MeshlessError(
        'ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN',
        `refusing a resumed TLS session of peer certificate ${leaf.fingerprint256}: this server holds no verdict of the full handshake that made it, and its chain cannot be checked again without one`,
        { input: 'peer', fingerprint: leaf.fingerprint256, resumed: true },
        error,
      );
    }
  }
}

/** What {@link PeerAdmission.admit} decided: the verdict of an admitted peer, or the refusal. */
export type Admission =
  | { readonly verdict: PeerVerdict; readonly refusal?: undefined }
  | { readonly verdict?: undefined; readonly refusal: MeshlessError };
