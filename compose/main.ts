/**
 * The composition root: configuration, logger, store, adapters, approvals, engine and the Slack app,
 * built once and handed down. `npm start` runs this file.
 *
 * Mode: SLACK_APP_TOKEN → Socket Mode; SLACK_SIGNING_SECRET → HTTP; neither → local mode, the same
 * Bolt app against the embedded Slack stand-in, driven from this terminal.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { crashPointsFromEnv } from '../engine/crash-points.js';
import { RUNBOOKS } from '../actions/index.js';
import { systemClock } from '../core/clock.js';
import { isChatOpsError } from '../core/errors.js';
import { openStore } from '../store/open-store.js';
import { breakGlassConfigured, buildApprovals } from './build-approvals.js';
import { buildBot } from './build-bot.js';
import { buildDeps, startupSweeps } from './build-deps.js';
import { buildWatcher } from './build-watcher.js';
import { loadConfig, type Config } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { createMetrics } from '../bot/metrics.js';
import { requestFaultsEnabled } from '../bot/receivers/request-faults.js';
import { lastLineOfDefence } from '../bot/receivers/request-scope.js';
import { startLocalSlack, type LocalSlack } from './local-slack.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const local = config.mode.kind === 'local';
  const logger = createLogger({ level: local ? (process.env.CHATOPS_LOG_LEVEL ?? 'warn') : config.logging.level, pretty: local });
  const clock = systemClock;
  const say = (s: string) => process.stdout.write(`${s}\n`);

  let standin: LocalSlack | undefined;
  let tokens = { bot: config.secrets.botToken ?? '', app: config.secrets.appToken, signing: config.secrets.signingSecret };
  let apiUrl = config.slackApiUrl;
  if (local) {
    standin = await startLocalSlack();
    tokens = { bot: standin.botToken, app: standin.appToken, signing: undefined };
    apiUrl = standin.apiUrl;
    say(`openstack-chatops: LOCAL mode, because ${config.mode.why}. The bot talks to an embedded Slack stand-in at ${standin.url}.`);
  } else {
    say(`openstack-chatops: ${config.mode.kind === 'socket' ? 'Socket Mode' : 'HTTP'} mode, because ${config.mode.why}. Slack Web API: ${apiUrl}`);
  }

  if (config.store.kind === 'sqlite' && config.store.path !== ':memory:') mkdirSync(dirname(resolve(config.store.path)), { recursive: true });
  const store = await openStore(config.store, clock);
  const metrics = createMetrics();
  // A failure inside a request is answered and counted; one outside any request still ends the process.
  lastLineOfDefence({ logger, metrics });
  const owner = `${hostname()}:${config.store.kind === 'sqlite' ? resolve(config.store.path) : 'mysql'}`;

  const built = buildDeps(config, clock, store);
  const deps = built.deps;
  const watcher = buildWatcher(config, {
    clock,
    store,
    owner,
    ...(built.budget ? { budget: built.budget } : {}),
    log: (level, msg, fields) => logger[level](fields ?? {}, msg),
  });
  const bot = await buildBot({
    slack: {
      transport: local || config.mode.kind === 'socket' ? 'socket' : 'http',
      botToken: tokens.bot,
      ...(tokens.signing ? { signingSecret: tokens.signing } : {}),
      ...(tokens.app ? { appToken: tokens.app } : {}),
      slackApiUrl: apiUrl,
      ...(config.slack.botId ? { botId: config.slack.botId } : {}),
      ...(config.slack.botUserId ? { botUserId: config.slack.botUserId } : {}),
      http: config.http,
      requestTimeoutMs: config.slack.requestTimeoutMs,
      ...(config.mode.kind === 'socket' ? { healthPort: config.http.port } : {}),
      ...(requestFaultsEnabled(process.env) ? { requestFaults: true } : {}),
    },
    store,
    approvals: (groups) => buildApprovals(config, store, groups),
    breakGlass: breakGlassConfigured(config),
    runbooks: RUNBOOKS,
    deps,
    startupSweeps: startupSweeps(deps, store, owner),
    owner,
    clock,
    logger,
    metrics,
    statusCardIntervalMs: config.slack.statusCardIntervalMs,
    schedules: config.schedules,
    crash: crashPointsFromEnv(process.env),
    ...(watcher ? { watcher: watcher.factory } : {}),
  });
  // Machine-readable readiness line for supervisors and the end-to-end tests.
  logger.info({ mode: config.mode.kind, port: bot.slack.port }, 'ready');
  if (!local) say(`ready${bot.slack.port !== undefined ? ` on port ${bot.slack.port}` : ''}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: finishing the current step, then stopping (at most 30 s)`);
    const hard = setTimeout(() => process.exit(1), 30_000);
    hard.unref();
    await bot.shutdown(25_000).catch((e: unknown) => logger.error({ err: e }, 'shutdown failed'));
    await watcher?.close();
    await store.close().catch(() => undefined);
    await standin?.stop();
    clearTimeout(hard);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  if (standin) {
    await standin.runTerminal({ input: process.stdin, output: process.stdout });
    await stop('end of input');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`openstack-chatops could not start: ${isChatOpsError(e) ? `${e.message} (${e.code})` : (e as Error).stack}\n`);
  process.exit(1);
});
