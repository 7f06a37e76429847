import { it } from 'vitest';
import { startHarness } from './support/harness';
import { startThread } from './support/flow';
it('debug', async () => {
  const h = await startHarness({ env: { STEP_ATTEMPTS: '3', LOG_LEVEL: 'debug' } });
  h.openai.script = () => ({ status: 400, error: 'model not found' });
  await startThread(h);
  await new Promise((r) => setTimeout(r, 8000));
  console.log(JSON.stringify(h.slack.calls.map((c) => [c.method, c.params.text, c.response?.error])));
  await h.close();
});
