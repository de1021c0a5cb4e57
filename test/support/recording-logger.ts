/** A real winston logger whose records a test can read: each line is the record as JSON (message, level and meta). */
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../../src/log.js';

export interface RecordingLogger {
  logger: Logger;
  lines: string[];
  /** Resolves with the first line, written already or later, that matches `pattern`. */
  waitFor(pattern: RegExp): Promise<string>;
}

/** `level`: the least severe level recorded. Defaults to info, as the server's own default. */
export function recordingLogger(level = 'info'): RecordingLogger {
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _encoding, done) {
      const line = JSON.stringify(info);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
      done();
    },
  });
  const waitFor = (pattern: RegExp): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ pattern, resolve }));
  };
  return { logger: winston.createLogger({ level, transports: [new winston.transports.Stream({ stream })] }), lines, waitFor };
}
