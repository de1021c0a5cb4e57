import winston from 'winston';

export type Logger = winston.Logger;

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values never reach a log line, wherever they appear in the metadata. */
const SECRET_KEYS = /^(authorization|password|token|bearer-token|bearerToken|secret|access_token|api_key|apiKey|x-api-key)$/i;

const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
  }
  return info;
});

/**
 * One line per event on stderr: time, level, message, then metadata as key=value.
 * stderr keeps stdout free for CLI output that scripts parse.
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(
      redactSecrets(),
      winston.format.timestamp(),
      winston.format.printf(({ timestamp, level: lvl, message, ...meta }) => {
        const extras = Object.entries(meta)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        return `${timestamp} ${lvl} ${message}${extras ? ' ' + extras : ''}`;
      }),
    ),
    transports: [new winston.transports.Console({ stderrLevels: [...LOG_LEVELS] })],
  });
}

/** A logger that drops everything; for unit tests and library use. */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
