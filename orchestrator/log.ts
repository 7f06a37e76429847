// The one logger: pino, one JSON object per line ({"level":"info","time":"<ISO>","msg":"…", …extra}), so log
// collectors index fields such as workflowId, stepId and errorId that callers pass in `extra`. Invariants: callers see
// only the small Logger interface below (pino stays swappable); lines are written synchronously, so nothing logged
// just before process.exit() is lost; human-readable output (pino-pretty, a development dependency) only when stdout
// is a terminal and pino-pretty is installed: containers, CI and pipes always get JSON. Every line written inside a
// traced span carries its trace_id and span_id, and every line of a job about a workflow its workflowId and stepId
// (withLogContext), without callers passing them.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import pino, { type DestinationStream } from 'pino';
import { activeTraceIds } from '../agents/tracing';

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** `write` receives each line without its newline (tests capture lines with it); default: stdout. */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination: DestinationStream = write
    ? { write: (line: string) => write(line.replace(/\n$/, '')) }
    // process.stdout, looked up at each write: synchronous on Linux for files, pipes and terminals (nothing is lost
    // before process.exit), and a test that captures process.stdout.write sees every line
    : prettyOnTerminal() ?? { write: (line: string) => void process.stdout.write(line) };
  const log = pino({
    level,
    base: undefined, // no pid/hostname on every line: the container runtime adds where a line came from
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const ids = activeTraceIds();
      const where = logContext.getStore();
      return ids ? (where ? { ...where, ...ids } : ids) : where ?? {};
    },
  }, destination);
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, extra?: Record<string, unknown>) => {
    if (extra) log[lvl](extra, msg);
    else log[lvl](msg);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Fields every line logged inside `fn` carries (a job's workflowId and stepId). */
export interface LogContext {
  workflowId?: string;
  stepId?: string;
}

const logContext = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(fields: LogContext, fn: () => Promise<T>): Promise<T> {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/** pino-pretty as a synchronous stream when stdout is a terminal and the package is installed (dev dependency). */
function prettyOnTerminal(): DestinationStream | undefined {
  if (!process.stdout.isTTY) return undefined;
  try {
    const pretty = createRequire(import.meta.url)('pino-pretty') as (opts: Record<string, unknown>) => DestinationStream;
    return pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined; // production install: no pino-pretty, JSON it is
  }
}
