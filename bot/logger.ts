/**
 * Structured JSON logs (pino) with secrets redacted. Local mode gets readable output instead,
 * written where it does not tangle with the terminal client.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths pino removes from every record, wherever a secret could appear. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'signingSecret',
  '*.signingSecret',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  'application_credential_secret',
  '*.application_credential_secret',
];

/** Strips anything that looks like a Slack token or an OpenStack token from free text. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/xox[abposr]-[A-Za-z0-9-]+/g, 'xox?-[redacted]')
    .replace(/xapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]')
    .replace(/(gAAAAA[A-Za-z0-9_-]{20,})/g, '[redacted-token]');
}

export interface LoggerOptions {
  level: string;
  pretty?: boolean;
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'openstack-chatops' } };
  if (opts.destination) return pino(base, opts.destination);
  if (opts.pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: false, translateTime: 'HH:MM:ss', ignore: 'pid,hostname,app', destination: 2 } },
    });
  }
  return pino(base);
}

export type { Logger };
