/**
 * Typed transport errors. Every error carries a machine-readable `code`, so callers never
 * classify failures by searching message text.
 */
export type TransportErrorCode = 'FRAME_TOO_LARGE' | 'FRAME_DECODE' | 'AUTH_FAILED' | 'UNKNOWN_PEER' | 'HANDSHAKE_TIMEOUT' | 'PROTOCOL';

/** Base class of every error the transport raises or logs about a connection. */
export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** A frame announced a length above the configured limit; the connection is closed before buffering it. */
export class FrameTooLargeError extends TransportError {
  constructor(
    readonly announcedBytes: number,
    readonly limitBytes: number,
  ) {
    super('FRAME_TOO_LARGE', `frame of ${announcedBytes} bytes exceeds the limit of ${limitBytes} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

/** A frame's payload is not valid msgpack, or not the message shape expected at this point. */
export class FrameDecodeError extends TransportError {
  constructor(readonly detail: string) {
    super('FRAME_DECODE', `undecodable frame: ${detail}`);
    this.name = 'FrameDecodeError';
  }
}
