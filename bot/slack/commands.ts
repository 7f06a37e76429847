// The /rolecall slash command: `status` (this channel's recent workflows), `cancel <id>` (through the orchestrator's
// act(), so the same conversation and RBAC checks and the same audit as the Cancel button), and `help`. Answered
// ephemerally in the command's response (only the person who typed it sees it), over HTTP or Socket Mode alike.
// Invariants: only the command's own workspace is read, and `status` only the channel it was typed in (the person
// is in it); everything echoed is escaped (text.ts); the argument is bounded and must look like a workflow id.
import type { Logger, Orchestrator } from '../../orchestrator';
import { SlashCommand } from './payloads';
import { mrkdwnText, slackDate, statusWords, userRef } from './text';

export interface SlashAnswer {
  response_type: 'ephemeral';
  text: string;
}

export type SlashCommandHandler = (body: Record<string, unknown>) => Promise<SlashAnswer | 'malformed'>;

const ID_PREFIX = /^[0-9a-f][0-9a-f-]{5,35}$/i;
const STATUS_SHOWN = 10;

export const HELP_TEXT = [
  '*Rolecall*: mention @Rolecall in a channel with a request (or write to me in a direct message) to start a workflow.',
  '`/rolecall status`: the recent workflows of this channel',
  '`/rolecall cancel <id>`: cancel a running workflow (type it in the workflow\'s channel; the first 8 characters of the id are enough)',
  '`/rolecall help`: this text',
].join('\n');

const answer = (text: string): SlashAnswer => ({ response_type: 'ephemeral', text });

export function slashCommandHandler(orchestrator: Orchestrator, log: Logger): SlashCommandHandler {
  return async (body) => {
    const parsed = SlashCommand.safeParse(body);
    if (!parsed.success) return 'malformed';
    const cmd = parsed.data;
    const [sub = 'help', ...args] = cmd.text.trim().split(/\s+/).filter(Boolean);
    switch (sub.toLowerCase()) {
      case 'help':
        return answer(HELP_TEXT);
      case 'status': {
        const rows = await orchestrator.workflows({ platform: 'slack', teamId: cmd.team_id, channelId: cmd.channel_id, limit: STATUS_SHOWN });
        if (!rows.length) return answer('No workflows in this channel yet: mention @Rolecall with a request to start one.');
        return answer(['*Recent workflows in this channel*', ...rows.map((w) => `• \`${w.id.slice(0, 8)}\` ${statusWords(w.status)} · ${slackDate(w.createdAt)} · ${userRef(w.requestedBy)}: ${mrkdwnText(w.requestText, 120)}`)].join('\n'));
      }
      case 'cancel': {
        const id = args[0] ?? '';
        if (!ID_PREFIX.test(id)) return answer('Say which workflow: `/rolecall cancel <id>` (see `/rolecall status` for ids).');
        const found = await orchestrator.workflows({ platform: 'slack', teamId: cmd.team_id, idPrefix: id, limit: 2 });
        if (!found.length) return answer(`No workflow \`${mrkdwnText(id, 36)}\` in this workspace.`);
        if (found.length > 1) return answer(`More than one workflow starts with \`${mrkdwnText(id, 36)}\`: give more of its id.`);
        const wf = found[0]!;
        if (wf.channelId !== cmd.channel_id) return answer('That workflow belongs to another channel: type the command there.');
        const outcome = await orchestrator.act('cancel_workflow', wf.id, { kind: 'chat', platform: 'slack', userId: cmd.user_id, teamId: cmd.team_id, channelId: cmd.channel_id });
        log.info('slash command cancel', { team: cmd.team_id, workflow: wf.id, outcome: outcome.kind });
        return answer(outcome.text);
      }
      default:
        return answer(`I do not know \`${mrkdwnText(sub, 40)}\`.\n${HELP_TEXT}`);
    }
  };
}
