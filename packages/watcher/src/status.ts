import type { MeshlessErrorCode } from '@meshless/core';
import type { MaterialFiles } from './layouts.js';

/**
 * What a {@link FileCertificateSource} serves and how its files are doing, for health endpoints,
 * `meshless doctor` and logs. A fresh snapshot on each call.
 *
 * @example
 * ```ts
 * const { serving, failing, lastError } = source.status();
 * if (failing) log.warn({ code: lastError?.code }, 'certificate files hold invalid material; serving the last good one');
 * log.info({ serial: serving.serialNumber, notAfter: serving.notAfter }, 'serving');
 * ```
 */
export interface FileSourceStatus {
  /** The certificate served now. */
  readonly serving: {
    readonly serialNumber: string;
    /** The SPIFFE ID of the leaf, when it has one. */
    readonly spiffeId?: string;
    readonly subject: string;
    readonly notAfter: Date;
    readonly fingerprint256: string;
  };
  /** When the served material was loaded: at start-up, then at each rotation. */
  readonly lastChangedAt: Date;
  /** When the files were last read. */
  readonly lastCheckedAt: Date;
  /** Whether the files hold something other than what is served that is not valid (yet): the source is retrying. */
  readonly failing: boolean;
  /** The most recent problem, kept after recovery; `failing` tells whether it still holds. */
  readonly lastError?: {
    readonly code: MeshlessErrorCode;
    readonly message: string;
    readonly file?: string;
    readonly at: Date;
  };
  /** How many times the served material changed (`update` events). */
  readonly rotations: number;
  /** The three files, as absolute paths. */
  readonly files: MaterialFiles;
  /** The directories watched for changes. */
  readonly directories: readonly string[];
}
