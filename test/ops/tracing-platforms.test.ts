// Spans of the chat platforms' own API calls, over real OTLP/HTTP (the collector stand-in, test/support/otlp-receiver.ts)
// with the real Slack SDK and the Agents SDK against the local fakes. A Slack workflow run to its end, with a file
// shared on the mention: every HTTP request of the Slack clients is a CLIENT span named by its Web API method
// (chat.postMessage and chat.update under the chat port's post and update, the three requests of files.uploadV2 under
// its upload, auth.test at start) or by what it fetches (the shared file's download), with its status code, a failed
// request (HTTP 500, retried by the client) marked as an error; a Teams thread with a chat file and a pasted image:
// the token request and both downloads are spans, and so is each post (the port's operation: the Bot Connector's HTTP
// requests are the Agents SDK's own). No span carries a token, a file's name or address, or message text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowTraceId } from '../../agents/tracing';
import { tsOf, waitForGate } from '../support/flow';
import { buttonsOf, startHarness, waitFor } from '../support/harness';
import { KIND, startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../support/otlp-receiver';
import { buttonClick, mention } from '../support/slack-requests';
import { personalMessage, startFakeMicrosoft, teamsPoster } from '../support/fake-teams';
import { gatesIn } from '../support/teams-harness';

let otlp: OtlpReceiver;
beforeAll(async () => { otlp = await startOtlpReceiver({ batchDelayMs: 100 }); }); // spans reach it within 0.1 s
afterAll(async () => { await otlp?.close(); });

const SECRET_TEXT = 'we need a login page with SSO for our customer portal';

/** The spans of one service that match, at least one. */
function some(service: string, pred: (s: OtlpSpan) => boolean, what: string): OtlpSpan[] {
  const found = otlp.spans.filter((s) => s.service === service && pred(s));
  expect(found.length, what).toBeGreaterThanOrEqual(1);
  return found;
}

describe('Slack API calls', () => {
  it('are each a client span, under the chat port\'s operation, in the workflow\'s trace; a failed request is an error span', async () => {
    const service = 'rolecall-slack-calls';
    const h = await startHarness({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: service } });
    let wfId: string;
    try {
      h.slack.failHttp('chat.postMessage', 1, 500); // the client tries again: one error span, then one that succeeds
      const spec = h.slack.addFile('secret-spec.txt', new TextEncoder().encode('Login must support SSO with Okta\n'), 'text/plain');
      const ev = { ...mention(SECRET_TEXT), files: [spec] };
      expect((await h.post.event(ev)).status).toBe(200);
      for (const n of [1, 2]) {
        const gate = await waitForGate(h, ev.ts, n);
        await h.post.interaction(buttonClick('approve', buttonsOf(gate).approve!, { messageTs: tsOf(gate), threadTs: ev.ts, user: 'U_BOB' }));
      }
      const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts, status: 'completed' } }), 'the completed workflow');
      wfId = wf.id;
      await waitFor(() => (h.slack.uploads.length >= 2 ? true : undefined), 'the QA Tester\'s files uploaded');
      expect(h.slack.downloads.filter((d) => d.served)).toHaveLength(1);
    } finally {
      await h.close(); // flushes the last spans
    }
    const traceId = workflowTraceId(wfId);
    const http = otlp.spans.filter((s) => s.service === service && s.attributes['rolecall.chat.platform'] !== undefined && s.attributes['http.request.method'] !== undefined);
    expect(http.length).toBeGreaterThanOrEqual(10);
    for (const s of http) {
      expect(s.kind, s.name).toBe(KIND.client);
      expect(s.name).toMatch(/^slack /);
      expect(s.attributes).toMatchObject({ 'rolecall.chat.platform': 'slack', 'server.address': '127.0.0.1', 'http.response.status_code': expect.any(Number) });
    }
    const parentOf = (s: OtlpSpan) => otlp.spans.find((p) => p.spanId === s.parentSpanId);

    // posts and edits: the Web API call under the port's operation, in the workflow's trace
    const posts = some(service, (s) => s.name === 'slack chat.postMessage' && s.traceId === traceId && parentOf(s)?.name === 'slack post' && s.status !== 2, 'chat.postMessage under a post');
    expect(posts[0]!.attributes).toMatchObject({ 'rolecall.chat.operation': 'chat.postMessage', 'http.request.method': 'POST', 'http.response.status_code': 200 });
    some(service, (s) => s.name === 'slack chat.update' && s.traceId === traceId && parentOf(s)?.name === 'slack update', 'chat.update under an update');
    // the 500 the fake answered once: an error span with its status, and the retry that followed it succeeded
    const failed = some(service, (s) => s.name === 'slack chat.postMessage' && s.attributes['http.response.status_code'] === 500, 'the failed request');
    expect(failed[0]).toMatchObject({ status: 2, attributes: expect.objectContaining({ 'error.type': '500' }) });
    some(service, (s) => s.name === 'slack chat.postMessage' && s.parentSpanId === failed[0]!.parentSpanId && s.attributes['http.response.status_code'] === 200, 'its retry');

    // files.uploadV2: an upload URL, the bytes, the completion, all under the port's upload, in the workflow's trace
    const uploads = some(service, (s) => s.name === 'slack upload' && s.traceId === traceId && s.kind === KIND.client, 'the upload');
    for (const name of ['slack files.getUploadURLExternal', 'slack file upload', 'slack files.completeUploadExternal']) {
      some(service, (s) => s.name === name && uploads.some((u) => otlp.under(s, u)) && s.attributes['http.response.status_code'] === 200, `${name} under an upload`);
    }
    // the shared file's download (url_private with the bot token) and the bot's own user id at start
    some(service, (s) => s.name === 'slack file download' && s.attributes['http.request.method'] === 'GET' && s.attributes['http.response.status_code'] === 200, 'the file download');
    some(service, (s) => s.name === 'slack auth.test', 'auth.test');

    const all = JSON.stringify(otlp.spans.filter((s) => s.service === service));
    for (const secret of ['xoxb-test', 'secret-spec', 'files-pri', SECRET_TEXT]) expect(all).not.toContain(secret);
  });
});

describe('Teams API calls', () => {
  it('are spans: the token request, the file downloads, and the port\'s posts', async () => {
    const service = 'rolecall-teams-calls';
    const ms = await startFakeMicrosoft();
    const h = await startHarness({ env: { ...ms.env, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: service } });
    try {
      const file = ms.addChatFile('secret-repro.txt', new TextEncoder().encode('Steps: open the cart, press Checkout.\nResult: HTTP 500\n'));
      const shot = ms.addInlineImage(new Uint8Array(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')));
      const msg = { ...personalMessage(ms, 'the checkout page crashes when the cart is empty, see the attached'), attachments: [file, shot] };
      expect((await teamsPoster(h.url, ms).send(msg)).status).toBe(200);
      await waitFor(() => gatesIn(ms, msg.conversation.id)[0], 'the first gate');
      expect(ms.fileRequests.filter((r) => r.served)).toHaveLength(2);
    } finally {
      await h.close();
      await ms.close();
    }
    const parentOf = (s: OtlpSpan) => otlp.spans.find((p) => p.spanId === s.parentSpanId);
    const downloads = some(service, (s) => s.name === 'teams file download' && s.kind === KIND.client && parentOf(s)?.name === 'process intake', 'the downloads, in the intake job');
    expect(downloads.map((s) => s.attributes['http.response.status_code'])).toEqual([200, 200]);
    const token = some(service, (s) => s.name === 'teams token' && s.kind === KIND.client, 'the token request');
    expect(token[0]!.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200 });
    // the Bot Connector calls are made by the Agents SDK's own HTTP client: traced as the port's operations
    some(service, (s) => s.name === 'teams post' && s.kind === KIND.client && parentOf(s)?.name === 'process drain', 'the port\'s posts, in the outbox\'s drain job');

    const all = JSON.stringify(otlp.spans.filter((s) => s.service === service && s.name.startsWith('teams ')));
    for (const secret of ['secret-repro', 'app-password-test', 'outbound-', '/sharepoint/']) expect(all).not.toContain(secret);
  });
});
