import { describe, expect, it } from 'vitest';
import { KvServerConfigError, parseKvServerArgs } from './kv-server-config';

const SECRET = { FLOTILLA_RAFT_SECRET: 'a-long-enough-secret' };

describe('parseKvServerArgs', () => {
  it('parses a full command line', () => {
    const c = parseKvServerArgs(
      ['--id', 'n1', '--raft', '127.0.0.1:7001', '--client', '127.0.0.1:8001', '--http', '0.0.0.0:9001', '--data-dir', '/d/n1', '--peers', 'n2=10.0.0.2:7002,n3=10.0.0.3:7003', '--bootstrap', 'n1,n2,n3', '--tick-ms', '20'],
      SECRET,
    );
    expect(c).toMatchObject({
      id: 'n1',
      raft: { host: '127.0.0.1', port: 7001 },
      client: { host: '127.0.0.1', port: 8001 },
      http: { host: '0.0.0.0', port: 9001 },
      dataDir: '/d/n1',
      peers: { n2: { host: '10.0.0.2', port: 7002 }, n3: { host: '10.0.0.3', port: 7003 } },
      bootstrap: ['n1', 'n2', 'n3'],
      tickMs: 20,
      electionTicks: 10,
      secret: 'a-long-enough-secret',
      storage: 'wal',
      walFlushMode: 'by-role',
    });
  });

  it('selects the durable log with --storage and rejects unknown kinds', () => {
    const base = ['--id', 'n1', '--raft', '127.0.0.1:7001', '--data-dir', '/d/n1'];
    expect(parseKvServerArgs([...base, '--storage', 'wal'], SECRET).storage).toBe('wal');
    expect(parseKvServerArgs([...base, '--storage', 'lmdb'], SECRET).storage).toBe('lmdb');
    expect(() => parseKvServerArgs([...base, '--storage', 'rocks'], SECRET)).toThrow(/--storage: expected lmdb or wal, got "rocks"/);
    expect(parseKvServerArgs([...base, '--storage', 'wal', '--wal-flush-mode', 'inline'], SECRET).walFlushMode).toBe('inline');
    expect(() => parseKvServerArgs([...base, '--wal-flush-mode', 'sometimes'], SECRET)).toThrow(/--wal-flush-mode/);
  });

  it('lists every problem at once', () => {
    const err = (() => {
      try {
        parseKvServerArgs(['--id', 'n1', '--raft', 'nope', '--data-dir', '/d', '--peers', 'n2', '--bootstrap', 'n2,n3', '--tick-ms', '0'], {});
      } catch (e) {
        return e;
      }
    })() as KvServerConfigError;
    expect(err).toBeInstanceOf(KvServerConfigError);
    expect(err.problems).toHaveLength(5);
    expect(err.problems.join('\n')).toMatch(/--raft.*nope/);
    expect(err.problems.join('\n')).toMatch(/cluster secret/);
    expect(err.problems.join('\n')).toMatch(/--bootstrap must include this node/);
  });
});
