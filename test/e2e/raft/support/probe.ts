import type { KvProcessCluster } from './kv-process-cluster';

/**
 * Resolves with the time (performance.now) of the first acknowledged write issued at or after
 * `from`: every 10 ms a fresh put goes to every running node without waiting for earlier ones.
 */
export function probeFirstAck(cluster: KvProcessCluster, from: number, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    let done = false;
    const timer = setInterval(() => {
      if (performance.now() - from > timeoutMs) {
        clearInterval(timer);
        reject(new Error('no write was acknowledged by any node'));
        return;
      }
      for (const id of cluster.running()) {
        let client;
        try {
          client = cluster.client(id);
        } catch {
          continue;
        }
        client.put('probe', String(n++)).then(
          () => {
            if (done) return;
            done = true;
            clearInterval(timer);
            resolve(performance.now());
          },
          () => undefined,
        );
      }
    }, 10);
  });
}
