// The two Slack app manifests (HTTP and Socket Mode) ask for what Rolecall uses: the scopes the "Add to Slack"
// install asks for (bot/slack/oauth.ts BOT_SCOPES), the events its handler reads, the App Home with the Messages tab,
// the /rolecall command, and Slack's AI app features (assistant_view with the prompts bot/slack/assistant.ts sets,
// assistant:write for the thread status, assistant_thread_started); the Socket Mode one has no URL at all.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BOT_SCOPES } from '../../bot/slack/oauth';
import { ASSISTANT_PROMPTS } from '../../bot/slack/assistant';
import { ASSISTANT_SCOPE } from '../../bot/slack/chat';

const load = (f: string) => parse(readFileSync(`bot/slack/${f}`, 'utf8'));
const EVENTS = ['app_home_opened', 'app_mention', 'app_uninstalled', 'assistant_thread_started', 'message.channels', 'message.groups', 'message.im', 'message.mpim', 'tokens_revoked', 'user_change'];

describe.each(['manifest.yaml', 'manifest.socket.yaml'])('%s', (file) => {
  const m = load(file);
  it('asks for the install\'s scopes, the events Rolecall reads, the App Home and /rolecall', () => {
    expect([...m.oauth_config.scopes.bot].sort()).toEqual([...BOT_SCOPES].sort());
    expect([...m.settings.event_subscriptions.bot_events].sort()).toEqual(EVENTS);
    expect(m.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true, messages_tab_read_only_enabled: false });
    expect(m.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/rolecall']);
  });
  it('has Slack\'s AI app features: the assistant view with the prompts Rolecall suggests, and assistant:write', () => {
    expect(BOT_SCOPES).toContain(ASSISTANT_SCOPE);
    expect(m.oauth_config.scopes.bot).toContain('assistant:write');
    expect(m.features.assistant_view.assistant_description).toMatch(/\S/);
    expect(m.features.assistant_view.assistant_description.length).toBeLessThanOrEqual(200);
    expect(m.features.assistant_view.suggested_prompts).toEqual(ASSISTANT_PROMPTS);
    expect(m.features.assistant_view.suggested_prompts.length).toBeLessThanOrEqual(4);
  });
  it(file === 'manifest.socket.yaml' ? 'runs over Socket Mode, with no URL' : 'runs over HTTP, with the redirect URL', () => {
    const socket = file === 'manifest.socket.yaml';
    expect(m.settings.socket_mode_enabled).toBe(socket);
    expect(JSON.stringify(m).includes('https://')).toBe(!socket);
  });
});
