// Which bot token speaks for which Slack workspace. Two sources, one interface (SlackTokens): a single workspace's
// SLACK_BOT_TOKEN, or the workspaces that installed Rolecall through "Add to Slack" (OAuth), kept in PostgreSQL
// (SlackInstallation) with the token sealed (token-seal.ts; with encryption at rest on, sealed under the workspace's
// data key instead, orchestrator/privacy/at-rest.ts, so a master key rotation covers it). The PostgreSQL store is also @slack/oauth's
// InstallationStore, so its InstallProvider writes installs here.
// Invariants: a token is only handed out for an active installation (uninstalled or revoked: WorkspaceNotInstalled,
// which the chat port turns into "this channel cannot be posted to", so that workspace's workflows stop posting and
// the console says why); tokens are read from the database on each use (no cache), so an uninstall seen by one process
// stops every process at once; an org-wide (Enterprise Grid) install is refused, Rolecall separates data per team.
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import { RolecallError } from '../../agents/errors';
import type { Db } from '../../orchestrator/db';
import type { TokenSeal } from './token-seal';
import { workspaceScope, type AtRest } from '../../orchestrator/privacy/at-rest';

/** Why a workspace has no usable token: never installed, uninstalled, or its tokens were revoked. */
export class WorkspaceNotInstalled extends RolecallError {
  constructor(readonly teamId: string, readonly reason: 'not_installed' | 'uninstalled' | 'tokens_revoked') {
    super(`Rolecall is not installed in Slack workspace ${teamId} (${reason})`);
  }
}

/** An install Rolecall does not accept (org-wide, or without a bot token). */
export class InstallationRefused extends RolecallError {}

export interface SlackTokens {
  /** The bot token of `teamId`; rejects with WorkspaceNotInstalled when there is none. */
  botToken(teamId: string): Promise<string>;
  /** The bot's own user id in `teamId` when known without calling Slack (OAuth installs record it). */
  botUserId(teamId: string): Promise<string | undefined>;
  /** How tokens are found, for the start-up log. */
  describe: string;
}

/** One workspace's token (SLACK_BOT_TOKEN) for every team id. */
export function staticTokens(botToken: string): SlackTokens {
  return { botToken: async () => botToken, botUserId: async () => undefined, describe: 'one workspace (SLACK_BOT_TOKEN)' };
}

export interface InstallationRecord {
  teamId: string;
  teamName: string | null;
  status: 'active' | 'uninstalled' | 'tokens_revoked';
  installedAt: Date;
  disabledAt: Date | null;
}

export interface SlackInstallations extends SlackTokens {
  /** @slack/oauth's InstallationStore on the SlackInstallation table. */
  store: InstallationStore;
  /** The app was uninstalled or its tokens revoked: the token is dropped, the row kept (with when and why). Returns
   *  whether an active installation was changed. */
  disable(teamId: string, reason: 'uninstalled' | 'tokens_revoked'): Promise<boolean>;
  list(): Promise<InstallationRecord[]>;
}

export function installationTokens(prisma: Db, seal: TokenSeal, atRest?: AtRest): SlackInstallations {
  const active = async (teamId: string) => {
    const row = await prisma.slackInstallation.findUnique({ where: { teamId } });
    if (!row) throw new WorkspaceNotInstalled(teamId, 'not_installed');
    if (row.status !== 'active' || !row.botTokenSealed) throw new WorkspaceNotInstalled(teamId, row.status === 'active' ? 'uninstalled' : row.status);
    // "v1." is the token seal's form; a value sealed at rest was opened by the database adapter on reading
    return { row, token: row.botTokenSealed.startsWith('v1.') ? seal.open(teamId, row.botTokenSealed) : row.botTokenSealed };
  };
  const sealToken = async (teamId: string, token: string) => (atRest?.on ? (await atRest.sealer(workspaceScope('slack', teamId))).text(token) : seal.seal(teamId, token));
  const store: InstallationStore = {
    async storeInstallation(installation) {
      if (installation.isEnterpriseInstall || !installation.team?.id) throw new InstallationRefused('org-wide (Enterprise Grid) installs are not supported: install Rolecall to each workspace');
      const bot = installation.bot;
      if (!bot?.token) throw new InstallationRefused('the install carries no bot token (the app must request bot scopes)');
      const teamId = installation.team.id;
      const data = {
        teamName: installation.team.name?.slice(0, 200) ?? null,
        enterpriseId: installation.enterprise?.id ?? null,
        appId: installation.appId ?? null,
        botId: bot.id,
        botUserId: bot.userId,
        botScopes: bot.scopes,
        botTokenSealed: await sealToken(teamId, bot.token),
        installedBy: installation.user.id,
        status: 'active' as const,
        disabledAt: null,
      };
      await prisma.slackInstallation.upsert({ where: { teamId }, create: { teamId, ...data }, update: { ...data, installedAt: new Date() } });
    },
    async fetchInstallation(query: InstallationQuery<boolean>) {
      if (!query.teamId) throw new WorkspaceNotInstalled(query.enterpriseId ?? '(none)', 'not_installed');
      const { row, token } = await active(query.teamId);
      const installation: Installation<'v2', false> = {
        team: { id: row.teamId, ...(row.teamName ? { name: row.teamName } : {}) },
        enterprise: row.enterpriseId ? { id: row.enterpriseId } : undefined,
        user: { id: row.installedBy ?? '', token: undefined, scopes: undefined },
        bot: { token, id: row.botId ?? '', userId: row.botUserId ?? '', scopes: row.botScopes },
        appId: row.appId ?? undefined,
        isEnterpriseInstall: false,
        authVersion: 'v2',
        tokenType: 'bot',
      };
      return installation;
    },
    async deleteInstallation(query) {
      if (query.teamId) await disable(query.teamId, 'uninstalled');
    },
  };
  const disable = async (teamId: string, reason: 'uninstalled' | 'tokens_revoked') => {
    const { count } = await prisma.slackInstallation.updateMany({ where: { teamId, status: 'active' }, data: { status: reason, botTokenSealed: null, disabledAt: new Date() } });
    return count === 1;
  };
  return {
    describe: 'workspaces installed through "Add to Slack" (tokens sealed in PostgreSQL)',
    botToken: async (teamId) => (await active(teamId)).token,
    botUserId: async (teamId) => (await prisma.slackInstallation.findUnique({ where: { teamId }, select: { botUserId: true } }))?.botUserId ?? undefined,
    store,
    disable,
    list: () => prisma.slackInstallation.findMany({ orderBy: { installedAt: 'desc' }, select: { teamId: true, teamName: true, status: true, installedAt: true, disabledAt: true } }),
  };
}
