import type { Server } from 'node:net';
import type { PeerAddress } from '../transport/peer-link';

/** Binds a TCP or HTTP server and resolves with the port it got (useful with port 0). */
export async function listenOn(server: Server, address: PeerAddress): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as { port: number }).port;
}
