import type { Socket } from 'node:net';

/** What the first bytes of a connection say it speaks. */
export type SniffedProtocol = 'tls' | 'h2c' | 'http1';

// A TLS connection starts with a handshake record (content type 22); an HTTP/2 prior-knowledge
// connection with the preface "PRI * HTTP/2.0"; anything else goes to the HTTP/1.1 parser, which
// answers garbage with 400 and closes.
const TLS_HANDSHAKE_RECORD = 0x16;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function classify(head: Buffer): SniffedProtocol | undefined {
  if (head.length === 0) return undefined;
  if (head[0] === TLS_HANDSHAKE_RECORD) return 'tls';
  const prefix = H2_PREFACE.subarray(0, Math.min(head.length, H2_PREFACE.length));
  if (head.subarray(0, prefix.length).equals(prefix))
    return head.length >= H2_PREFACE.length ? 'h2c' : undefined;
  return 'http1';
}

/**
 * Reads the first bytes of a connection without consuming them (they are pushed back with
 * `unshift`, and the TLS or HTTP layer that takes the socket reads them first), then calls `route`
 * with the protocol. A connection that sends nothing within `timeoutMs` is destroyed, so slow or
 * silent clients cannot hold the peek forever.
 */
export function sniffProtocol(
  socket: Socket,
  timeoutMs: number,
  route: (protocol: SniffedProtocol) => void,
): void {
  let head: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  timer.unref();
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', cleanup);
  };
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const protocol = classify(head);
    if (!protocol) return;
    cleanup();
    socket.pause();
    socket.unshift(head);
    route(protocol);
  };
  socket.on('data', onData);
  socket.on('close', cleanup);
}
