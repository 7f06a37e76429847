// Slack tokens at rest (bot/slack/token-seal.ts) and the Slack part of the configuration: AES-256-GCM with the team
// id bound in, nothing opens with another key, team or a changed byte; and each way of configuring Slack.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';
import { TokenSealBroken, tokenSeal } from '../../bot/slack/token-seal';

describe('token seal', () => {
  const key = randomBytes(32);
  const seal = tokenSeal(key);

  it('opens what it sealed, with a fresh IV each time, never showing the token', () => {
    const a = seal.seal('T1', 'xoxb-secret-token');
    const b = seal.seal('T1', 'xoxb-secret-token');
    expect(a).not.toBe(b);
    expect(a).not.toContain('xoxb');
    expect(seal.open('T1', a)).toBe('xoxb-secret-token');
  });

  it('refuses another team, another key, a changed byte and garbage', () => {
    const sealed = seal.seal('T1', 'xoxb-secret-token');
    expect(() => seal.open('T2', sealed)).toThrow(TokenSealBroken);
    expect(() => tokenSeal(randomBytes(32)).open('T1', sealed)).toThrow(TokenSealBroken);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    expect(() => seal.open('T1', [parts[0], parts[1], parts[2], ct.toString('base64url')].join('.'))).toThrow(TokenSealBroken);
    expect(() => seal.open('T1', 'not a seal')).toThrow(TokenSealBroken);
    expect(() => tokenSeal(randomBytes(16))).toThrow(RangeError);
  });
});

describe('Slack configuration', () => {
  const oauth = { SLACK_CLIENT_ID: 'id', SLACK_CLIENT_SECRET: 'secret', SLACK_STATE_SECRET: 'x'.repeat(32), SLACK_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), DATABASE_URL: 'postgresql://u@db:5432/x' };

  it('takes Socket Mode with a bot token and no signing secret', () => {
    expect(loadConfig({ SLACK_APP_TOKEN: 'xapp-1-x', SLACK_BOT_TOKEN: 'xoxb' }).slack).toEqual({ apiUrl: 'https://slack.com/api/', appToken: 'xapp-1-x', botToken: 'xoxb' });
  });

  it('takes "Add to Slack" with its four settings and PostgreSQL', () => {
    const c = loadConfig({ SLACK_SIGNING_SECRET: 's', ...oauth }).slack!;
    expect(c.botToken).toBeUndefined();
    expect(c.oauth?.tokenKey).toHaveLength(32);
  });

  it.each([
    [{ SLACK_APP_TOKEN: 'xoxb-wrong', SLACK_BOT_TOKEN: 'xoxb' }, 'SLACK_APP_TOKEN'],
    [{ SLACK_APP_TOKEN: 'xapp-1' }, 'SLACK_BOT_TOKEN'],
    [{ SLACK_SIGNING_SECRET: 's', ...oauth, SLACK_TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'SLACK_TOKEN_ENCRYPTION_KEY'],
    [{ SLACK_SIGNING_SECRET: 's', ...oauth, SLACK_STATE_SECRET: 'short' }, 'SLACK_STATE_SECRET'],
    [{ SLACK_SIGNING_SECRET: 's', ...oauth, SLACK_BOT_TOKEN: 'xoxb' }, 'SLACK_BOT_TOKEN'],
    [{ SLACK_SIGNING_SECRET: 's', ...oauth, DATABASE_URL: '' }, 'DATABASE_URL'],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_CLIENT_ID: 'id' }, 'SLACK_CLIENT_SECRET'],
    [{ ...oauth }, 'SLACK_SIGNING_SECRET'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${variable}:`));
  });
});
