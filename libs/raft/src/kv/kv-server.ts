/**
 * Process entry of one replicated KV node.
 *
 *   FLOTILLA_RAFT_SECRET=… npx tsx libs/raft/src/kv/kv-server.ts --id n1 --raft 127.0.0.1:7001 \
 *     --client 127.0.0.1:8001 --http 127.0.0.1:9001 --data-dir .data/n1 \
 *     --peers n2=127.0.0.1:7002,n3=127.0.0.1:7003 --bootstrap n1,n2,n3
 *
 * Prints one JSON line `{"event":"ready",…ports}` on stdout when serving; logs (pino JSON) go
 * to stderr. SIGTERM/SIGINT stop it gracefully; a fatal storage error exits with code 1.
 * See libs/raft/RUNNING.md.
 */
import pino from 'pino';
import { RaftNode } from '../node/raft-node';
import { KvHttpServer } from './kv-http-server';
import { parseKvServerArgs, KvServerConfigError } from './kv-server-config';
import { KvService } from './kv-service';
import { KvStateMachine } from './kv-state-machine';
import { KvTcpServer } from './kv-tcp-server';

async function main(): Promise<void> {
  let config;
  try {
    config = parseKvServerArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof KvServerConfigError ? err.message : (err as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { node: config.id } }, pino.destination(2));
  const sm = new KvStateMachine();
  const node = await RaftNode.start({
    id: config.id,
    dataDir: config.dataDir,
    storage: config.storage,
    walFlushMode: config.walFlushMode,
    listen: config.raft,
    peers: config.peers,
    bootstrap: config.bootstrap,
    secret: config.secret,
    stateMachine: sm,
    tickMs: config.tickMs,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    snapshotEntries: config.snapshotEntries,
    catchUpEntries: config.catchUpEntries,
    operationTimeoutMs: config.timeoutMs,
    logger,
    onFatal: (err) => {
      logger.fatal({ err: err.message }, 'kv-server: fatal raft error, exiting');
      process.exit(1);
    },
  });
  const service = new KvService(node, sm);
  const tcp = new KvTcpServer(service, logger);
  const clientPort = await tcp.listen(config.client);
  const http = config.http ? new KvHttpServer(service) : undefined;
  const httpPort = http && config.http ? await http.listen(config.http) : undefined;
  process.stdout.write(`${JSON.stringify({ event: 'ready', id: config.id, raftPort: node.port, clientPort, httpPort, pid: process.pid })}\n`);
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'kv-server: stopping');
    await tcp.close();
    await http?.close();
    await node.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`kv-server: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
