/**
 * The node:net, node:http and node:tls server options (not secure context options, which meshless
 * checks and carries itself) that `createServer` passes on to `https.createServer`, from Node 20 to
 * Node 26 so that users of newer lines are not refused a valid option. Anything else is refused
 * as unknown: Node would ignore it silently.
 */
const NET_SERVER_KEYS = [
  'allowHalfOpen',
  'pauseOnConnect',
  'noDelay',
  'keepAlive',
  'keepAliveInitialDelay',
  'highWaterMark',
  'blockList',
] as const;

const TLS_SERVER_KEYS = ['ALPNProtocols', 'ALPNCallback', 'enableTrace'] as const;

const HTTP_SERVER_KEYS = [
  'IncomingMessage',
  'ServerResponse',
  'requestTimeout',
  'headersTimeout',
  'keepAliveTimeout',
  'keepAliveTimeoutBuffer',
  'connectionsCheckingInterval',
  'joinDuplicateHeaders',
  'insecureHTTPParser',
  'maxHeaderSize',
  'requireHostHeader',
  'uniqueHeaders',
  'rejectNonStandardBodyWrites',
  'optimizeEmptyRequests',
  'shouldUpgradeCallback',
  'httpValidation',
] as const;

const HTTP2_SERVER_KEYS = [
  'allowHTTP1',
  'origins',
  'maxDeflateDynamicTableSize',
  'maxSettings',
  'maxSessionMemory',
  'maxHeaderListPairs',
  'maxOutstandingPings',
  'maxSendHeaderBlockLength',
  'paddingStrategy',
  'peerMaxConcurrentStreams',
  'settings',
  'remoteCustomSettings',
  'unknownProtocolTimeout',
  'maxSessionRejectedStreams',
  'maxSessionInvalidFrames',
  'streamResetBurst',
  'streamResetRate',
  'strictFieldWhitespaceValidation',
  'strictSingleValueFields',
  'Http1IncomingMessage',
  'Http1ServerResponse',
  'Http2ServerRequest',
  'Http2ServerResponse',
] as const;

/**
 * Options `createServer` passes to `https.createServer` as they are.
 *
 * @example
 * ```ts
 * HTTPS_SERVER_OPTION_KEYS.includes('requestTimeout'); // true
 * ```
 */
export const HTTPS_SERVER_OPTION_KEYS: readonly string[] = [
  ...NET_SERVER_KEYS,
  ...TLS_SERVER_KEYS,
  ...HTTP_SERVER_KEYS,
];

/**
 * Options `createSecureServer` passes to `http2.createSecureServer` as they are.
 *
 * @example
 * ```ts
 * HTTP2_SERVER_OPTION_KEYS.includes('allowHTTP1'); // true
 * ```
 */
export const HTTP2_SERVER_OPTION_KEYS: readonly string[] = [
  ...NET_SERVER_KEYS,
  ...TLS_SERVER_KEYS,
  ...HTTP2_SERVER_KEYS,
];
