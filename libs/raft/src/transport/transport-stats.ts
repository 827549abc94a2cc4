/** Counters a transport keeps; all monotonically increasing for the transport's lifetime. */
export interface TransportStats {
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Corked batches of frames written to peer sockets (one writev each); ≤ framesSent. */
  socketWrites: number;
  /** Outbound messages dropped because the peer's queue was full or the frame was oversize. */
  dropped: number;
  /** Handshakes refused: wrong proof, unknown peer id, wrong target id, bad version. */
  authFailures: number;
  /** Connections closed because of an undecodable or unexpected frame. */
  badFrames: number;
  /** Connections closed because a frame exceeded the size limit. */
  oversizeFrames: number;
  /** Outbound connections that completed their handshake. */
  connects: number;
}

/** All counters at zero. */
export function emptyTransportStats(): TransportStats {
  return { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, socketWrites: 0, dropped: 0, authFailures: 0, badFrames: 0, oversizeFrames: 0, connects: 0 };
}
