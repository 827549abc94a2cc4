import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768–60999 by default): the kernel never hands these out as
// the local port of an outgoing connection, so a node killed with -9 can bind its port again on
// restart. Ports handed out from the ephemeral range could meanwhile be taken by any client
// socket in the test run (seen as EADDRINUSE on restart).
const LOW = 20_000;
const HIGH = 32_000;
const handedOut = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port nothing listens on now, outside the ephemeral range, never handed out twice by this process. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 1_000; i += 1) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    if (await tryListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port in ${LOW}-${HIGH}`);
}
