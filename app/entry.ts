// Shared start-up for the entry points: parse config once, start, stop cleanly on SIGTERM/SIGINT.
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from '../orchestrator/log';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime';
import { errorMessage, OperatorError } from '../agents/errors';

const STOP_DEADLINE_MS = 10_000;

export async function main(mode: Omit<RuntimeOptions, 'migrate'> & { name: string }): Promise<void> {
  const config = parseConfigOrExit();
  const log = createLogger(config.logLevel);
  log.info(`Rolecall ${mode.name} starting (${config.env})`);
  // Signals are handled from the first moment: one that arrives during start-up stops the process once it has
  // started, so children such as the embedded redis-server are never left behind.
  let runtime: Runtime | undefined;
  let stopRequested: string | undefined;
  const stop = (signal: string) => {
    stopRequested ??= signal;
    if (runtime) void shutdown(runtime, signal, log);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    runtime = await startRuntime(config, { ...mode, migrate: mode.server }, log);
  } catch (e) {
    process.stderr.write(`Rolecall could not start: ${errorMessage(e)}\n`);
    process.exit(e instanceof OperatorError ? 2 : 1); // what the operator wrote (config, role or template files)
  }
  if (stopRequested) await shutdown(runtime, stopRequested, log);
}

function parseConfigOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
}

async function shutdown(runtime: Runtime, signal: string, log: Logger): Promise<void> {
  log.info(`${signal}: shutting down`);
  const deadline = setTimeout(() => {
    log.error(`shutdown took longer than ${STOP_DEADLINE_MS / 1000} s; exiting anyway`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
  await runtime.close();
  clearTimeout(deadline);
  process.exit(0);
}
