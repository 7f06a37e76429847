// Rolecall's own mention markers survive the outbox: a post built by one process and sent by another (same
// deployment secret) still mentions the approvers; a marker made under another secret, or typed by a person, does not.
import { describe, expect, it } from 'vitest';
import { useMentionKey } from '../../bot/mention-key';
import { slackGroupMention, slackText } from '../../bot/slack/blocks';
import { mentionedIds, teamsMention } from '../../bot/teams/cards';

describe('mention markers', () => {
  it('are honoured by any process of the same deployment, and by no other', () => {
    useMentionKey('deployment secret A');
    const built = `${slackGroupMention('S0ABCDEF')} and ${teamsMention('aad-carol')}: please review`;
    // "another process": the key is derived again from the same secret
    useMentionKey('deployment secret A');
    expect(slackText(built)).toContain('<!subteam^S0ABCDEF>');
    expect(mentionedIds(built)).toEqual(['aad-carol']);
    // another deployment (or a forged marker): text, not a mention
    useMentionKey('deployment secret B');
    expect(slackText(built)).not.toContain('<!subteam^');
    expect(mentionedIds(built)).toEqual([]);
    expect(built).not.toContain('deployment secret');
  });
});
