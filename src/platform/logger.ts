import { type Logger, pino } from 'pino';

export type { Logger };

/** Query parameters and body fields whose values never reach a log line. */
const SECRET_PARAMS =
  /^(access_token|refresh_token|id_token|token|code|client_secret|password|device_code)$/i;

/** Removes secret values from a URL's query string, keeping the names for debugging. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_PARAMS.test(key)) params.set(key, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

export interface LoggerOptions {
  level?: string;
  /** Pretty output is for people at a terminal; JSON for everything else. */
  destination?: NodeJS.WritableStream;
}

/** The process logger. Components take a child of it; nothing else creates loggers. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          '*.password',
          '*.client_secret',
          '*.access_token',
          '*.refresh_token',
          '*.token',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string }) => ({
          method: req.method,
          url: req.url ? redactUrl(req.url) : undefined,
          id: req.id,
        }),
      },
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that discards everything, for tests and CLIs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
