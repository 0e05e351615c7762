import { logLevel, type logCreator } from 'kafkajs';

/** The slice of a pino-style logger the Kafka source uses. */
export interface KafkaLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/**
 * Routes kafkajs's own log lines to our logger. kafkajs is chatty at INFO
 * (every join, every connection), so the Kafka client is created at WARN and
 * only warnings and errors arrive here.
 */
export function kafkajsLogCreator(logger: KafkaLogger): logCreator {
  return () => (entry) => {
    const { message, timestamp: _ts, ...rest } = entry.log;
    const fields = { kafka: entry.namespace, ...rest };
    if (entry.level === logLevel.ERROR) logger.error(fields, message);
    else if (entry.level === logLevel.WARN) logger.warn(fields, message);
    else logger.debug?.(fields, message);
  };
}

/** Used when no logger is given: stays quiet except for errors. */
export const consoleErrorLogger: KafkaLogger = {
  error: (obj, msg) => console.error(msg ?? '', obj),
  warn: () => {},
};
