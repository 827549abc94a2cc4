import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CoalescingWriter } from './coalescing-writer';

function recordingSocket(): { socket: Socket; writes: Buffer[]; destroy(): void } {
  const writes: Buffer[] = [];
  const state = { destroyed: false };
  const socket = {
    get destroyed() {
      return state.destroyed;
    },
    write(chunk: Buffer) {
      writes.push(Buffer.from(chunk));
      return true;
    },
  } as unknown as Socket;
  return { socket, writes, destroy: () => (state.destroyed = true) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CoalescingWriter', () => {
  it('sends every frame queued in one turn, including its promise reactions, as one write, in order', async () => {
    const { socket, writes } = recordingSocket();
    const out = new CoalescingWriter(socket);
    out.write(Buffer.from('a'));
    await Promise.resolve().then(() => out.write(Buffer.from('b')));
    out.write(Buffer.from('c'));
    expect(writes).toEqual([]);
    await tick();
    expect(writes.map((w) => w.toString())).toEqual(['abc']);
    out.write(Buffer.from('d'));
    await tick();
    expect(writes.map((w) => w.toString())).toEqual(['abc', 'd']);
  });

  it('drops what is queued once the socket is destroyed', async () => {
    const { socket, writes, destroy } = recordingSocket();
    const out = new CoalescingWriter(socket);
    out.write(Buffer.from('lost'));
    destroy();
    await tick();
    expect(writes).toEqual([]);
  });
});
