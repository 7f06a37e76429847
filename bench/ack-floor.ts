// The ack floor for bench/acks.ts: the least a server can do to acknowledge a Slack event durably — read the body,
// check the Slack signature (HMAC-SHA256 and timestamp), add one BullMQ job with a deterministic id — then 200.
// A separate process, like Rolecall's server. Run by bench/acks.ts; prints "ready <port>" when it listens.
// Env: REDIS_URL, QUEUE_PREFIX, SLACK_SIGNING_SECRET.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const secret = process.env.SLACK_SIGNING_SECRET ?? '';
const queue = new Queue('floor', { connection: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null }), prefix: process.env.QUEUE_PREFIX ?? 'floor' });
await queue.waitUntilReady();

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const raw = Buffer.concat(chunks).toString();
    const ts = Number(req.headers['x-slack-request-timestamp']);
    const sig = Buffer.from(String(req.headers['x-slack-signature'] ?? ''));
    const want = Buffer.from('v0=' + createHmac('sha256', secret).update(`v0:${ts}:${raw}`).digest('hex'));
    if (!Number.isFinite(ts) || Math.abs(Date.now() / 1000 - ts) > 300 || sig.length !== want.length || !timingSafeEqual(sig, want)) {
      res.writeHead(401).end();
      return;
    }
    try {
      const body = JSON.parse(raw) as { event: { channel: string; ts: string } };
      await queue.add('intake', { event: body.event }, { jobId: `intake-${body.event.channel}-${body.event.ts}` });
      res.writeHead(200).end();
    } catch {
      res.writeHead(500).end();
    }
  });
});
// The same listen backlog as Rolecall's server (app/runtime.ts), so that neither drops SYNs in a burst that the other keeps.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', async () => {
  await queue.obliterate({ force: true }).catch(() => undefined);
  process.exit(0);
});
