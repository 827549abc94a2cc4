import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mutual HMAC-SHA256 challenge–response over a shared cluster secret.
 *
 * ```
 * dialer  → acceptor : hello     {from, to, nonce: Nc}
 * acceptor → dialer  : challenge {nonce: Ns, proof: HMAC(secret, "server" | from | to | Nc | Ns)}
 * dialer  → acceptor : auth      {proof: HMAC(secret, "client" | from | to | Nc | Ns)}
 * acceptor → dialer  : welcome
 * ```
 *
 * Both sides prove knowledge of the secret over fresh nonces chosen by the other side, so a
 * recorded handshake cannot be replayed, and the role label keeps one side's proof from being
 * reflected back as the other's. It authenticates the connection, not each frame: an attacker
 * able to hijack an established TCP stream is out of scope (use mutual TLS for that).
 */
export const HANDSHAKE_VERSION = 1;

/** Nonce length in bytes. */
export const NONCE_BYTES = 32;

/** Dialer → acceptor: who I am, whom I mean to reach, and my nonce. */
export interface HelloFrame {
  t: 'hello';
  v: number;
  from: string;
  to: string;
  nonce: Uint8Array;
}
/** Acceptor → dialer: its nonce and its proof of the secret over both nonces. */
export interface ChallengeFrame {
  t: 'challenge';
  nonce: Uint8Array;
  proof: Uint8Array;
}
/** Dialer → acceptor: the dialer's proof of the secret over both nonces. */
export interface AuthFrame {
  t: 'auth';
  proof: Uint8Array;
}
/** Acceptor → dialer: authenticated; Raft frames may follow. */
export interface WelcomeFrame {
  t: 'welcome';
}
/** Either side: refused, with a reason for the logs; the connection closes. */
export interface RejectFrame {
  t: 'reject';
  reason: string;
}
/** Any frame exchanged before authentication completes. */
export type HandshakeFrame = HelloFrame | ChallengeFrame | AuthFrame | WelcomeFrame | RejectFrame;

/** A fresh random nonce (never reused: it is what makes a recorded handshake useless). */
export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The proof one side sends: binds role, both ids and both nonces. */
export function handshakeProof(
  secret: string | Uint8Array,
  role: 'server' | 'client',
  dialerId: string,
  acceptorId: string,
  dialerNonce: Uint8Array,
  acceptorNonce: Uint8Array,
): Buffer {
  const mac = createHmac('sha256', secret);
  mac.update(`flotilla-raft-v${HANDSHAKE_VERSION}\0${role}\0${dialerId}\0${acceptorId}\0`);
  mac.update(dialerNonce);
  mac.update(acceptorNonce);
  return mac.digest();
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofMatches(expected: Buffer, received: Uint8Array): boolean {
  return received.length === expected.length && timingSafeEqual(expected, received);
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Narrows an untrusted decoded frame to a handshake frame, or returns undefined. */
export function parseHandshakeFrame(v: unknown): HandshakeFrame | undefined {
  if (!isRecord(v)) return undefined;
  switch (v.t) {
    case 'hello':
      return typeof v.v === 'number' && typeof v.from === 'string' && typeof v.to === 'string' && isBytes(v.nonce) && v.nonce.length === NONCE_BYTES
        ? { t: 'hello', v: v.v, from: v.from, to: v.to, nonce: v.nonce }
        : undefined;
    case 'challenge':
      return isBytes(v.nonce) && v.nonce.length === NONCE_BYTES && isBytes(v.proof) ? { t: 'challenge', nonce: v.nonce, proof: v.proof } : undefined;
    case 'auth':
      return isBytes(v.proof) ? { t: 'auth', proof: v.proof } : undefined;
    case 'welcome':
      return { t: 'welcome' };
    case 'reject':
      return { t: 'reject', reason: typeof v.reason === 'string' ? v.reason : 'unspecified' };
    default:
      return undefined;
  }
}
