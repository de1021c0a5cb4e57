/** A real winston logger whose records a test can read: each line is the record as JSON (message, level and meta). */
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../../src/log.js';

export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _encoding, done) {
      lines.push(JSON.stringify(info));
      done();
    },
  });
  return { logger: winston.createLogger({ transports: [new winston.transports.Stream({ stream })] }), lines };
}
