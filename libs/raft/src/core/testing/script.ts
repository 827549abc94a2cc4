import type { MembershipChange, Message } from '../types';
import { Network, bytes, text } from './network';

/**
 * A tiny command language for interaction scenarios (in the spirit of etcd's datadriven
 * tests). Each command prints what it caused — the messages delivered, in order — so a
 * scenario file reads as a message trace that reviewers can check against the paper.
 *
 * Commands:
 *   cluster voters=1,2,3 [learners=4] [joiners=5] [prevote=false] [checkquorum=false] [seed=1]
 *   campaign <id> · propose <id> <data> · tick <n> [ids…] · stabilize
 *   isolate <id> · heal · crash <id> · restart <id>
 *   read <id> <ctx> · transfer <leader> <to> · change <leader> <type> <node> · compact <id>
 *   status <id> · log <id>
 */
export class ScenarioRunner {
  private net: Network | null = null;

  private get network(): Network {
    if (!this.net) throw new Error('no cluster: start the scenario with `cluster voters=…`');
    return this.net;
  }

  /** Run one command line and return its output lines. */
  run(line: string): string[] {
    const [cmd, ...args] = line.trim().split(/\s+/);
    if (cmd === 'cluster') return this.cluster(args);
    const net = this.network;
    const mark = net.delivered.length;
    const out: string[] = [];
    switch (cmd) {
      case 'campaign':
        net.node(args[0]).campaign();
        net.stabilize();
        break;
      case 'propose':
        try {
          net.node(args[0]).propose(bytes(args[1]));
        } catch (e) {
          out.push(`error: ${(e as Error).name} ${(e as Error).message}`);
        }
        net.stabilize();
        break;
      case 'tick':
        net.tick(Number(args[0]), args.length > 1 ? args.slice(1) : undefined);
        break;
      case 'stabilize':
        net.stabilize();
        break;
      case 'isolate':
        net.isolate(args[0]);
        break;
      case 'heal':
        net.heal();
        break;
      case 'crash':
        net.crash(args[0]);
        break;
      case 'restart':
        net.restart(args[0]);
        net.stabilize();
        break;
      case 'read': {
        const before = net.peer(args[0]).readStates.length;
        net.node(args[0]).readIndex(bytes(args[1]));
        net.stabilize();
        for (const rs of net.peer(args[0]).readStates.slice(before)) out.push(`read-state ${args[0]}: index=${rs.index} ctx=${text(rs.requestCtx)}`);
        break;
      }
      case 'transfer':
        net.node(args[0]).transferLeadership(args[1]);
        net.stabilize();
        break;
      case 'change':
        try {
          net.node(args[0]).proposeMembershipChange({ type: args[1] as MembershipChange['type'], node: args[2] });
        } catch (e) {
          out.push(`error: ${(e as Error).name} ${(e as Error).message}`);
        }
        net.stabilize();
        break;
      case 'compact': {
        const p = net.peer(args[0]);
        p.storage.createSnapshot(p.appliedIndex, p.node.confState(), bytes('snapshot'));
        p.storage.compact(p.appliedIndex);
        out.push(`compacted ${args[0]} through ${p.appliedIndex}`);
        break;
      }
      case 'status':
        return [formatStatus(net, args[0])];
      case 'log':
        return [`${args[0]}: ${net.persistedLog(args[0]).map((e) => `${e.index}@${e.term}`).join(' ') || '(empty)'}`];
      default:
        throw new Error(`unknown command ${cmd}`);
    }
    return [...net.delivered.slice(mark).map(formatMessage), ...out];
  }

  private cluster(args: string[]): string[] {
    const kv = new Map(args.map((a) => a.split('=') as [string, string]));
    const list = (k: string) => (kv.get(k) ? (kv.get(k) as string).split(',') : []);
    this.net = new Network({
      voters: list('voters'),
      learners: list('learners'),
      joiners: list('joiners'),
      seed: Number(kv.get('seed') ?? 1),
      config: { preVote: kv.get('prevote') !== 'false', checkQuorum: kv.get('checkquorum') !== 'false' },
    });
    return [];
  }
}

function formatStatus(net: Network, id: string): string {
  const s = net.node(id).status();
  const cs = `voters=${s.confState.voters.join(',')}${s.confState.learners.length ? ` learners=${s.confState.learners.join(',')}` : ''}`;
  return `${id}: ${s.role} term=${s.term} lead=${s.leader ?? '-'} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} ${cs}`;
}

/** One-line rendering of a message with the fields that matter for its type. */
export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  const ents = m.entries.map((e) => `${e.index}@${e.term}${e.type === 'conf-change' ? '(conf)' : e.data.length ? `:${text(e.data)}` : ''}`).join(' ');
  const rej = m.reject ? ' REJECT' : '';
  switch (m.type) {
    case 'MsgApp':
      return `${head} prev=${m.index}@${m.logTerm} commit=${m.commit} [${ents}]`;
    case 'MsgAppResp':
      return m.reject ? `${head} index=${m.index} REJECT hint=${m.rejectHint}@${m.logTerm}` : `${head} index=${m.index}`;
    case 'MsgVote':
    case 'MsgPreVote':
      return `${head} last=${m.index}@${m.logTerm}${m.context ? ' (transfer)' : ''}`;
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      return `${head}${rej}`;
    case 'MsgHeartbeat':
    case 'MsgHeartbeatResp':
      return `${head}${m.type === 'MsgHeartbeat' ? ` commit=${m.commit}` : ''}${m.context?.length ? ` ctx=${text(m.context)}` : ''}`;
    case 'MsgSnap':
      return `${head} snap=${m.snapshot?.metadata.index}@${m.snapshot?.metadata.term}`;
    case 'MsgReadIndex':
    case 'MsgReadIndexResp':
      return `${head} index=${m.index} ctx=${ents ? text(m.entries[0].data) : ''}`;
    case 'MsgTransferLeader':
      return `${head} to=${m.context ? text(m.context) : m.from}`;
    default:
      return `${head}${rej}`;
  }
}
