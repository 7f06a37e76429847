// Gate policies in role files (issue 14): durations, reminders before the expiry, escalation rules; when each timer
// is due; and Slack user-group mentions, which only Rolecall's own marker (a gate's configured approvers) produces.
import { describe, expect, it } from 'vitest';
import { parseRoleFile, RoleDefinitionError } from '../../agents/roles';
import { durationMs } from '../../agents/role-schema';
import { slackGroupMention, slackText } from '../../bot/slack/blocks';
import { dueTimers } from '../../orchestrator/gate-people';
import { plainText } from '../../orchestrator/markup';
import { designerRoleFile } from '../support/roles-dir';

const role = (approval: string) => designerRoleFile(approval);

describe('gate policy in a role file', () => {
  it('reads durations and approvers', () => {
    const r = parseRoleFile('designer.yaml', role('  policy: rbac_role\n  rbac_role: approver\n  approvers: { slack: [U012AB3CD, S0ABCDEF], teams: ["29:1abc"] }\n  remind_after: 4h\n  expire_after: 2d\n  on_expire: escalate'));
    expect(r.approval).toMatchObject({ policy: 'rbac_role', remind_after: '4h', expire_after: '2d', on_expire: 'escalate', approvers: { slack: ['U012AB3CD', 'S0ABCDEF'], teams: ['29:1abc'] } });
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('2d')).toBe(172_800_000);
  });

  it.each([
    ['  policy: any\n  remind_after: 2h\n  expire_after: 1h', 'approval.remind_after: must be shorter than expire_after'],
    ['  policy: any\n  on_expire: escalate', 'approval.on_expire: needs expire_after'],
    ['  policy: any\n  remind_after: soon', 'approval.remind_after: must be a duration'],
    ['  policy: any\n  expire_after: 100d', 'approval.expire_after: must be at most 90 days'],
    ['  policy: any\n  approvers: { slack: ["<!channel>"] }', 'approval.approvers.slack.0: must be a Slack user id'],
  ])('refuses %j', (approval, message) => {
    expect(() => parseRoleFile('designer.yaml', role(approval))).toThrow(RoleDefinitionError);
    expect(() => parseRoleFile('designer.yaml', role(approval))).toThrow(message);
  });

  it('due times: the next reminder only while it comes before the expiry, and the expiry', () => {
    const r = parseRoleFile('designer.yaml', role('  policy: any\n  remind_after: 1h\n  expire_after: 150m'));
    const opened = new Date('2026-12-01T10:00:00Z');
    expect(dueTimers(r, 'a1', opened, 0)).toEqual([
      { kind: 'gate_timer', approvalId: 'a1', due: 'remind', n: 1, at: '2026-12-01T11:00:00.000Z' },
      { kind: 'gate_timer', approvalId: 'a1', due: 'expire', n: 0, at: '2026-12-01T12:30:00.000Z' },
    ]);
    expect(dueTimers(r, 'a1', opened, 2).map((j) => j.due)).toEqual(['expire']);
  });
});

describe('Slack user-group mentions', () => {
  it('Rolecall\'s marker becomes <!subteam^…>; the same text typed by someone notifies nobody', () => {
    expect(slackText(`${slackGroupMention('S0ABCDEF')}: please review`)).toBe('<!subteam^S0ABCDEF>: please review');
    expect(slackText('<!subteam^S0ABCDEF> and ⟦group abc S0ABCDEF⟧')).toBe('&lt;!subteam^S0ABCDEF&gt; and ⟦group abc S0ABCDEF⟧');
    expect(slackGroupMention('<!channel>')).toBe('');
    expect(plainText(`${slackGroupMention('S0ABCDEF')}: hi`, new Map([['S0ABCDEF', 'reviewers']]))).toBe('@reviewers: hi');
  });
});
