/**
 * The bot as main.ts assembles it (buildBot), in the test's own process, wired to a Slack stand-in
 * over HTTP or Socket Mode, with the local-mode approvals (alice asks, bob or carol approves, dave
 * may break glass) and a driver that talks to it the way Slack would.
 */
import { pino } from 'pino';
import { Approvals } from '../../approvals/approvals.js';
import type { GroupResolver } from '../../approvals/group-resolver.js';
import type { Runbook } from '../../engine/runbook.js';
import { LOCAL_APPROVALS } from '../../compose/build-approvals.js';
import { buildBot, type Bot } from '../../compose/build-bot.js';
import type { WatcherFactory } from '../../compose/build-watcher.js';
import { createMetrics } from '../../bot/metrics.js';
import { SlackDriver } from '../../slack-standin/driver.js';
import type { SlackStandin } from '../../slack-standin/slack-standin.js';
import { BOT } from '../../slack-standin/workspace.js';
import { systemClock } from '../../core/clock.js';
import type { Store } from '../../store/store.js';

export interface InProcessBotOptions<D> {
  standin: SlackStandin;
  transport: 'http' | 'socket';
  store: Store;
  runbooks: readonly Runbook<never, D>[];
  deps: D;
  owner: string;
  breakGlass?: boolean;
  /** Approvals other than the local-mode ones (e.g. a user-data class with TOTP step-up). */
  approvals?: (groups: GroupResolver) => Approvals;
  /** A compute watcher, as main.ts builds one from `watcher:` (compose/build-watcher.ts). */
  watcher?: WatcherFactory;
  /** Scheduled runs: a short tick and grace for tests. */
  schedules?: { graceMs?: number; reminderMs?: number; tickMs?: number };
  leaseMs?: number;
}

export async function startInProcessBot<D>(o: InProcessBotOptions<D>): Promise<{ bot: Bot<D>; slack: SlackDriver }> {
  const { standin, store } = o;
  const bot = await buildBot<D>({
    slack: {
      transport: o.transport,
      botToken: standin.botToken,
      signingSecret: standin.signingSecret,
      appToken: standin.appToken,
      slackApiUrl: standin.apiUrl,
      botId: BOT.botId,
      botUserId: BOT.userId,
      http: { port: 0, host: '127.0.0.1', signatureWindowSeconds: 300 },
      requestTimeoutMs: 5000,
    },
    store,
    approvals: o.approvals ?? ((groups) => new Approvals({ store, config: LOCAL_APPROVALS, groups })),
    ...(o.breakGlass ? { breakGlass: true } : {}),
    ...(o.watcher ? { watcher: o.watcher } : {}),
    runbooks: o.runbooks,
    deps: o.deps,
    owner: o.owner,
    clock: systemClock, // the Slack side keeps real time; expiry follows the store's clock
    logger: pino({ level: process.env['TEST_LOG'] ?? 'silent' }),
    metrics: createMetrics(),
    statusCardIntervalMs: 500,
    ...(o.schedules ? { schedules: o.schedules } : {}),
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
  });
  const slack = new SlackDriver(
    standin,
    o.transport === 'http' ? { kind: 'http', url: `http://127.0.0.1:${bot.slack.port}/slack/events` } : { kind: 'socket' },
  );
  return { bot, slack };
}
