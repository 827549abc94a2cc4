import type { Entry, Message, MessageType, NodeId, Snapshot } from './types';

const NO_ENTRIES: readonly Entry[] = Object.freeze([]) as readonly Entry[];

/** Optional fields of {@link newMessage}; absent ones get their zero value. */
export interface MessageFields {
  readonly logTerm?: number;
  readonly index?: number;
  readonly entries?: readonly Entry[];
  readonly commit?: number;
  readonly snapshot?: Snapshot;
  readonly reject?: boolean;
  readonly rejectHint?: number;
  readonly context?: Uint8Array;
}

/**
 * Builds a {@link Message} with every field present (one object shape for all messages keeps
 * property access monomorphic on hot paths).
 */
export function newMessage(type: MessageType, from: NodeId, to: NodeId, term: number, f: MessageFields = {}): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: f.logTerm ?? 0,
    index: f.index ?? 0,
    entries: f.entries ?? NO_ENTRIES,
    commit: f.commit ?? 0,
    snapshot: f.snapshot,
    reject: f.reject ?? false,
    rejectHint: f.rejectHint ?? 0,
    context: f.context,
  };
}

/** Message kinds a host must never feed to `step` from the network: they are generated locally. */
export function isLocalMessageType(t: MessageType): boolean {
  return t === 'MsgHup' || t === 'MsgBeat' || t === 'MsgCheckQuorum';
}

/** Responses: dropped when they come from a peer that is not (or no longer) a member. */
export function isResponseMessageType(t: MessageType): boolean {
  return t === 'MsgAppResp' || t === 'MsgVoteResp' || t === 'MsgPreVoteResp' || t === 'MsgHeartbeatResp' || t === 'MsgUnreachable' || t === 'MsgSnapStatus';
}

/** Context marking a vote request as part of a leadership transfer: it bypasses the leader lease. */
export const CAMPAIGN_TRANSFER_CONTEXT: Uint8Array = new Uint8Array([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72]); // "transfer"

/** Whether a vote request's context marks a leadership-transfer campaign. */
export function isCampaignTransfer(ctx: Uint8Array | undefined): boolean {
  if (!ctx || ctx.length !== CAMPAIGN_TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== CAMPAIGN_TRANSFER_CONTEXT[i]) return false;
  return true;
}

const utf8Decoder = new TextDecoder();

/** The transferee a MsgTransferLeader names: its `context` (UTF-8 node id), else `from`. */
export function transfereeOf(m: Message): NodeId {
  return m.context && m.context.length > 0 ? utf8Decoder.decode(m.context) : m.from;
}
