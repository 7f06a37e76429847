// Deadlines that this process's own busyness does not trip (orchestrator/deadline.ts): an answer that arrived in a
// socket while the event loop was blocked past the deadline still wins; work that never answers is given up on.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDeadline } from '../../orchestrator/deadline';

let server: net.Server;
let port = 0;
beforeAll(async () => {
  server = net.createServer((s) => s.on('data', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A connected pair: what `a` writes arrives in `b`'s socket without any JavaScript running on the way. */
async function socketPair(): Promise<{ a: net.Socket; b: net.Socket }> {
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const b = net.connect(port, '127.0.0.1');
  await new Promise((r) => b.once('connect', r));
  return { a: await accepted, b };
}

const block = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end) { /* the event loop is busy */ } };

describe('withDeadline', () => {
  it('lets an answer that arrived during a blocked event loop win over its expired deadline', async () => {
    const { a, b } = await socketPair();
    const answer = new Promise<string>((r) => b.once('data', (d) => r(d.toString())));
    const late = new Promise<string>((_, reject) => setTimeout(() => reject(new Error('plain timer')), 20));
    const guarded = withDeadline(answer, 20, () => new Error('deadline'));
    const plain = Promise.race([answer, late]).then(() => 'answer', () => 'timer');
    a.write('ok'); // in b's kernel buffer at once
    block(100); // both deadlines pass while the answer waits unread
    await expect(guarded).resolves.toBe('ok');
    expect(await plain).toBe('timer'); // what a plain setTimeout race would have decided
    a.destroy(); b.destroy();
  });

  it('rejects with the given error when the work does not answer', async () => {
    await expect(withDeadline(new Promise(() => undefined), 20, () => new Error('no answer'))).rejects.toThrow('no answer');
  });
});
