// Shared start-up for the entry points: parse config once, start, stop cleanly on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../log';
import { startRuntime, type RuntimeOptions } from './runtime';

export async function main(mode: Omit<RuntimeOptions, 'migrate'> & { name: string }): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  log.info(`Rolecall ${mode.name} starting (${config.env})`);
  try {
    const runtime = await startRuntime(config, { ...mode, migrate: mode.server }, log);
    const stop = async (signal: string) => {
      log.info(`${signal}: shutting down`);
      await runtime.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  } catch (e) {
    process.stderr.write(`Rolecall could not start: ${(e as Error).message}\n`);
    process.exit(e instanceof ConfigError || (e as Error).name === 'RoleDefinitionError' ? 2 : 1);
  }
}
