import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stderr, so stdout stays free for command output. */
export function createLogger(level = 'info', name = 'chainsight'): Logger {
  return pino({ name, level }, pino.destination(2));
}
