// One neutral view, rendered by each adapter (Slack blocks, Teams cards, the web playground, the console): every
// shortcode the views use becomes Unicode outside Slack, dates become each platform's local-time form, and mentions and
// Slack markup never show raw in the console.
import { describe, expect, it } from 'vitest';
import { toSlack } from '../../bot/slack/blocks';
import { teamsMention, toCard, toMessageMarkdown } from '../../bot/teams/cards';
import { emojiText } from '../../bot/web/render';
import { dateToken, emojify, emojiOf, mentionIds, plainText } from '../../orchestrator/markup';
import { decidedGateView, noPlanView, planView, satisfactionView, failedView, humanError } from '../../orchestrator/views';
import { loadRoles } from '../../agents/roles';

const roles = loadRoles('roles');
const role = [...roles.values()][0]!;
const at = new Date('2026-12-03T18:00:05Z');
const SHORTCODE = /:[a-z_][a-z0-9_+-]*:/;
const cardText = (card: ReturnType<typeof toCard>) => JSON.stringify(card.body);

describe('the neutral markup', () => {
  it('knows every shortcode the views and the shipped roles use, from the maintained table', () => {
    for (const code of ['checkered_flag', 'thinking_face', 'robot_face', 'vertical_traffic_light', 'hourglass_flowing_sand', 'octagonal_sign', 'fast_forward', 'arrow_right_hook', 'raised_hand', 'question', 'repeat', 'pencil2', 'no_entry', '+1']) {
      expect(emojiOf(code), code).toBeTruthy();
    }
    for (const r of roles.values()) expect(emojiOf(r.persona.icon_emoji ?? ':robot_face:'), r.role_id).toBeTruthy();
    expect(emojify(':tada: and :our_custom_logo:')).toBe('🎉 and :our_custom_logo:');
  });

  it('renders the console text without Slack markup, <at> tags or tokens, people by name', () => {
    const text = `${decidedGateView(role, 'approved', teamsMention('29:abc'), at).text} <@U123> <https://x.test|the doc> *bold* _it_ &lt;b&gt; ${dateToken(at)}`;
    expect(mentionIds(text)).toEqual(['29:abc', 'U123']);
    const plain = plainText(text, new Map([['29:abc', 'Ann Lee'], ['U123', 'Bob']]));
    expect(plain).toContain('✅ Approved by @Ann Lee');
    expect(plain).toContain('@Bob the doc (https://x.test) bold it <b> 2026-12-03 18:00:05 UTC');
    expect(plain).not.toMatch(/<at|<@|⟦|\*/);
    expect(plainText('<!date^1796320805^{date_short_pretty} {time}|2026-12-03 18:00:05 UTC>')).toBe('2026-12-03 18:00:05 UTC');
  });
});

describe('Slack', () => {
  it('keeps shortcodes and shows dates in each reader\'s time zone', () => {
    const m = toSlack(decidedGateView(role, 'approved', '<@U1>', at));
    expect(m.text).toContain(':white_check_mark: Approved by <@U1>');
    expect(JSON.stringify(m.blocks)).toContain(`decided <!date^${at.getTime() / 1000}^{date_short_pretty} {time}|2026-12-03 18:00:05 UTC>`);
  });

  it('a date token forged in echoed text is only ever a date; a forged <!date…> is escaped', () => {
    const m = toSlack({ text: 'hi ⟦date:1⟧ <!date^1^{x}|<!channel>> <!here>' });
    expect(m.text).toContain('hi <!date^1^{date_short_pretty} {time}|1970-01-01 00:00:01 UTC>');
    expect(m.text).toContain('&lt;!here&gt;');
    expect(m.text).not.toMatch(/<!(here|channel)>/);
  });
});

describe('Teams', () => {
  it('mentions a person it has no name for under a neutral label, with the entity that notifies them', () => {
    const card = toCard({ displayName: 'Rolecall' }, { text: `Waiting for ${teamsMention('29:known')} or ${teamsMention('29:never-wrote')}` }, new Map([['29:known', 'Ann Lee']]));
    expect(cardText(card)).toContain('Waiting for <at>Ann Lee</at> or <at>colleague</at>');
    expect((card.msteams as { entities?: unknown[] }).entities).toEqual([
      { type: 'mention', text: '<at>Ann Lee</at>', mentioned: { id: '29:known', name: 'Ann Lee' } },
      { type: 'mention', text: '<at>colleague</at>', mentioned: { id: '29:never-wrote', name: 'colleague' } },
    ]);
  });

  it('shows no Slack shortcode in any view, and the persona\'s own emoji', () => {
    const views = [satisfactionView('w1'), noPlanView([{ name: 'Bug triage', description: 'd' }]), planView({ request: 'r', templateName: 't', intent: null, steps: [{ key: 'a', displayName: 'A', gateAfter: true, after: [] }] }),
      decidedGateView(role, 'rejected', 'x', at), failedView(role, 'boom', 's1', 1, 'w1')];
    for (const v of views) {
      const card = toCard({ displayName: 'QA', iconEmoji: ':test_tube:' }, v, new Map());
      expect(cardText(card)).not.toMatch(SHORTCODE);
      expect(cardText(card)).toContain('🧪');
    }
    expect(cardText(toCard({ displayName: 'X' }, satisfactionView('w1'), new Map()))).toContain('🏁');
    expect(cardText(toCard({ displayName: 'X', iconEmoji: ':our_custom:' }, { text: 'x' }, new Map()))).toContain('🤖');
  });

  it('shows dates with the card\'s DATE/TIME functions, and in UTC in a plain message', () => {
    expect(cardText(toCard({ displayName: 'X' }, decidedGateView(role, 'approved', 'Ann', at), new Map()))).toContain('decided {{DATE(2026-12-03T18:00:05Z, SHORT)}} {{TIME(2026-12-03T18:00:05Z)}}');
    expect(toMessageMarkdown(`:eyes: *seen* ${dateToken(at)}`)).toBe('👀 **seen** 2026-12-03 18:00:05 UTC');
  });
});

describe('web playground', () => {
  it('shows emoji and dates, not shortcodes and tokens', () => {
    expect(emojiText(`:checkered_flag: ${dateToken(at)}`)).toBe('🏁 2026-12-03 18:00:05 UTC');
  });
});

describe('failures in the thread', () => {
  it('are a sentence a person can act on, the detail left to the console', () => {
    const v = failedView(role, 'gpt-4o-mini: 3 attempts (rate limited). Last error: model server answered 429', 'step_1', null, 'w1');
    expect(v.text).toContain('The AI model provider is busy right now');
    expect(v.text).not.toContain('429');
    expect(v.context).toContain('error id step_1');
    expect(humanError('ECONNREFUSED 127.0.0.1:11434')).toBe('The AI model provider could not be reached.');
  });
});
