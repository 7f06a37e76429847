// The Slack SDKs' logger (@slack/socket-mode, @slack/oauth) on Rolecall's: their info lines (each reconnect, each
// install step) are debug here, their warnings and errors keep their level, with the SDK named.
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import { errorMessage } from '../../agents/errors';
import type { Logger } from '../../orchestrator/log';

export function slackLogger(log: Logger, name: string): SlackLogger {
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((x) => (typeof x === 'string' ? x : errorMessage(x))).join(' ');
  return {
    debug: (...msg) => log.debug(`${name}: ${text(msg)}`),
    info: (...msg) => log.debug(`${name}: ${text(msg)}`),
    warn: (...msg) => log.warn(`${name}: ${text(msg)}`),
    error: (...msg) => log.error(`${name}: ${text(msg)}`),
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
