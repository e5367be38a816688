/** Bolt's Logger interface on top of pino, so Bolt's own messages are structured and redacted too. */
import { LogLevel, type Logger as BoltLogger } from '@slack/logger';
import type { Logger } from 'pino';

export function boltLogger(log: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const child = log.child({ component: 'bolt' });
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    // Bolt logs every delivery at debug: format only what will be written.
    debug: (...msg) => child.isLevelEnabled('debug') && child.debug(text(msg)),
    info: (...msg) => child.isLevelEnabled('info') && child.info(text(msg)),
    warn: (...msg) => child.warn(text(msg)),
    error: (...msg) => child.error(text(msg)),
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
