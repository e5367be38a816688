/**
 * The Slack surface: one Bolt 5 app in Socket Mode (SLACK_APP_TOKEN) or HTTP (signing secret),
 * or in local mode against the embedded stand-in (Socket Mode to a local URL). One listener for
 * every slash command, one for every button and one for every dialog, each handing over to the
 * dispatcher (bot/dispatch/): every delivery is acknowledged before any I/O, and retried or replayed
 * deliveries are acknowledged and dropped.
 *
 * Built in three moves, because Bolt's client must exist before the engine that reports through it:
 * `createSlackApp` (receiver, App with deferred initialisation: `client` usable at once), `listen`
 * (the dispatcher, which needs the engine), `start` (init, connect or listen).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// Named imports: Node's CJS lexer finds them, and they mean the same under tsx, node and vitest.
import { App, HTTPReceiver, SocketModeReceiver, type App as BoltApp, type SlashCommand, type BlockButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { isChatOpsError } from '../core/errors.js';
import { boltLogger } from './bolt-logger.js';
import type { DeliveryDedupe } from './delivery-dedupe.js';
import { deliveryKey } from './delivery-dedupe.js';
import type { Dispatcher, Responder } from './dispatch/types.js';
import type { Metrics } from './metrics.js';
import { renderError } from './render/render-error.js';
import { httpEventErrorHandler, installRequestScopes, socketEventErrorHandler } from './receivers/bolt-last-line.js';
import { guardHttpDeliveries } from './receivers/guard-http-deliveries.js';
import { guardSocketEnvelopes } from './receivers/guard-socket-envelopes.js';
import { guardRequestWindow } from './request-window.js';

export interface SlackAppOptions {
  transport: 'http' | 'socket';
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  slackApiUrl: string;
  botId?: string;
  botUserId?: string;
  http: { port: number; host: string; signatureWindowSeconds: number };
  requestTimeoutMs: number;
  /** Health and metrics server in Socket Mode; undefined = none (local mode). */
  healthPort?: number;
  /** The deliberate faults of receivers/request-faults.ts (tests of the last line of defence only). */
  requestFaults?: boolean;
}

export interface SlackAppDeps {
  dedupe: DeliveryDedupe;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** Readiness for /healthz beyond "the process answers". */
  health?: () => Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

export interface SlackApp {
  app: BoltApp;
  /** Bolt's Web API client; usable before `start` (the reporters and group look-ups take it). */
  client: WebClient;
  /** Hands every command, button and dialog to the dispatcher. Call once, before `start`. */
  listen(dispatcher: Dispatcher): void;
  /** Initialises Bolt and connects (Socket Mode) or listens (HTTP); the port, when listening. */
  start(): Promise<{ port?: number }>;
  /** Port of the HTTP receiver (HTTP mode) or of the health server (Socket Mode), once started. */
  port?: number;
  stop(): Promise<void>;
}

const DEDUPE_TTL_MS = 60 * 60 * 1000;

export function createSlackApp(opts: SlackAppOptions, deps: SlackAppDeps): SlackApp {
  const { logger, metrics, clock } = deps;
  const blog = boltLogger(logger);
  const clientOptions = {
    slackApiUrl: opts.slackApiUrl,
    // Never let a method name carry its own URL: everything goes to slackApiUrl.
    allowAbsoluteUrls: false,
    timeout: opts.requestTimeoutMs,
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5000 },
  };

  const healthRoute = async (_req: unknown, res: import('node:http').ServerResponse) => {
    const h = (await deps.health?.()) ?? { ok: true };
    res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', ...h.detail }));
  };
  const metricsRoute = async (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
  };

  let receiver: InstanceType<typeof HTTPReceiver> | InstanceType<typeof SocketModeReceiver>;
  if (opts.transport === 'http') {
    if (!opts.signingSecret) throw new Error('HTTP mode needs a signing secret');
    const http = new HTTPReceiver({
      signingSecret: opts.signingSecret,
      endpoints: ['/slack/events'],
      logger: blog,
      processEventErrorHandler: httpEventErrorHandler(deps),
      customRoutes: [
        { path: '/healthz', method: ['GET'], handler: (req, res) => void healthRoute(req, res) },
        { path: '/metrics', method: ['GET'], handler: (req, res) => void metricsRoute(req, res) },
      ],
    });
    // Bolt refuses stale timestamps only; refuse future-dated ones too, before the body is read.
    // Then the size limit and the shape of signed bodies (receivers/), then Bolt.
    const guarded = guardHttpDeliveries(http.requestListener, { endpoints: ['/slack/events'], signingSecret: opts.signingSecret, logger, metrics });
    http.requestListener = guardRequestWindow(guarded, {
      endpoints: ['/slack/events'],
      clock,
      windowSeconds: opts.http.signatureWindowSeconds,
      onReject: (reason) => {
        metrics.rejectedRequests.inc({ reason: reason.includes('future') ? 'future' : reason.includes('old') ? 'stale' : 'malformed' });
        logger.warn({ reason }, 'refused a request outside the signature window');
      },
    });
    receiver = http;
  } else {
    if (!opts.appToken) throw new Error('Socket Mode needs an app-level token');
    const onError = socketEventErrorHandler(deps);
    receiver = new SocketModeReceiver({ appToken: opts.appToken, logger: blog, installerOptions: { clientOptions }, processEventErrorHandler: onError });
    guardSocketEnvelopes(receiver.client, { logger, metrics });
  }

  const app = new App({
    token: opts.botToken,
    receiver,
    logger: blog,
    clientOptions,
    ...(opts.botId && opts.botUserId ? { botId: opts.botId, botUserId: opts.botUserId } : {}),
    deferInitialization: true,
    // The conversation store keeps per-channel state we never read; it costs time on every delivery.
    convoStore: false,
  });

  /**
   * De-duplication runs after the acknowledgement (it may touch the store; nothing may delay an ack):
   * a repeat is acknowledged like the first delivery and then dropped.
   */
  const firstDelivery = async (body: unknown, retryNum: number | undefined): Promise<boolean> => {
    const key = deliveryKey(body as Record<string, unknown>);
    if (!key || (await deps.dedupe.firstSeen(key, DEDUPE_TTL_MS))) return true;
    metrics.duplicates.inc({ kind: key.slice(0, key.indexOf(':')) });
    logger.info({ key, retryNum }, 'duplicate delivery acknowledged and dropped');
    return false;
  };

  let port: number | undefined;
  let health: Server | undefined;
  let listening = false;
  const slack: SlackApp = {
    app,
    client: app.client,
    listen(handlers) {
      if (listening) throw new Error('the Slack app already has a dispatcher');
      listening = true;
      app.command(/^\/[a-z][a-z0-9_-]*$/, async ({ command, ack, respond, client, body, context }) => {
        const started = process.hrtime.bigint();
        const observe = () => metrics.ackSeconds.observe({ kind: 'command' }, Number(process.hrtime.bigint() - started) / 1e9);
        const cmd = command as SlashCommand;
        const requester = { userId: cmd.user_id, teamId: cmd.team_id, userName: cmd.user_name };
        if (!handlers.commands.includes(cmd.command)) {
          await ack({ response_type: 'ephemeral', text: `This bot does not answer ${cmd.command}. It answers ${handlers.commands.join(', ')}.` });
          observe();
          metrics.commands.inc({ command: 'unknown', outcome: 'unknown' });
          return;
        }
        const outcome = handlers.parse({ command: cmd.command, text: cmd.text ?? '', requester, channelId: cmd.channel_id });
        if (outcome.kind !== 'command') {
          const r = { text: outcome.text };
          await ack({ response_type: 'ephemeral', ...r });
          observe();
          metrics.commands.inc({ command: cmd.command, outcome: outcome.kind });
          return;
        }
        await ack({ response_type: 'ephemeral', text: handlers.ackText(outcome.command) });
        observe();
        if (!(await firstDelivery(body, context.retryNum))) return;
        metrics.commands.inc({ command: outcome.command.name, outcome: 'accepted' });
        const responder = responderFor(respond, logger);
        try {
          await handlers.run(outcome.command, {
            ...responder,
            client,
            requester,
            channelId: cmd.channel_id,
            commandText: `${cmd.command} ${cmd.text}`.trim(),
            triggerId: cmd.trigger_id,
          });
        } catch (e) {
          logger.error({ err: e, command: outcome.command.name }, 'command failed');
          metrics.commands.inc({ command: outcome.command.name, outcome: 'failed' });
          await responder.ephemeral(renderError(e).text).catch(() => undefined);
        }
      });

      app.action(/^[a-z][a-z0-9_.-]*$/, async ({ body, action, ack, respond, client, context }) => {
        await ack();
        if (!(await firstDelivery(body, context.retryNum))) return;
        const b = body as BlockButtonAction;
        const a = action as BlockButtonAction['actions'][number];
        metrics.actions.inc({ action: a.action_id, outcome: 'received' });
        const responder = responderFor(respond, logger);
        try {
          await handlers.action(
            {
              actionId: a.action_id,
              value: a.value ?? '',
              blockId: a.block_id,
              channelId: b.channel?.id ?? b.container.channel_id,
              messageTs: b.message?.ts ?? b.container.message_ts,
              threadTs: (b.message as { thread_ts?: string } | undefined)?.thread_ts,
              triggerId: b.trigger_id,
            },
            { ...responder, client, actor: { userId: b.user.id, teamId: b.user.team_id ?? b.team?.id ?? '', userName: b.user.username ?? b.user.name } },
          );
        } catch (e) {
          logger.error({ err: e, action: a.action_id }, 'action failed');
          metrics.actions.inc({ action: a.action_id, outcome: 'failed' });
          await responder.ephemeral(renderError(e).text).catch(() => undefined);
        }
      });

      app.view(/^[a-z][a-z0-9_.-]*$/, async ({ view, body, ack, client }) => {
        const values: Record<string, string> = {};
        for (const [blockId, inputs] of Object.entries(view.state?.values ?? {})) {
          const first = Object.values(inputs)[0] as { value?: string | null } | undefined;
          values[blockId] = first?.value ?? '';
        }
        const submission = { callbackId: view.callback_id, privateMetadata: view.private_metadata ?? '', values };
        const errors = handlers.checkView(submission);
        if (errors) return void (await ack({ response_action: 'errors', errors }));
        await ack();
        const actor = { userId: body.user.id, teamId: body.user.team_id ?? body.team?.id ?? '', userName: body.user.name };
        const responder: Responder = {
          // A dialog has no response_url: tell the person privately in the channel the dialog came from.
          ephemeral: async (text) => {
            // The metadata is whatever the submission carried (a forged one need not be JSON): this runs in a catch.
            const channel = metadataChannel(submission.privateMetadata);
            if (channel) await client.chat.postEphemeral({ channel, user: actor.userId, text }).catch(() => undefined);
          },
        };
        try {
          await handlers.view(submission, { ...responder, client, actor });
        } catch (e) {
          logger.error({ err: e, view: view.callback_id }, 'dialog failed');
          await responder.ephemeral(renderError(e).text);
        }
      });

      installRequestScopes(app, deps, { requestFaults: opts.requestFaults === true });
    },
    async start() {
      if (!listening) throw new Error('start before listen: the Slack app has no dispatcher');
      await app.init();
      if (opts.transport === 'http') {
        const server = (await app.start({ port: opts.http.port, host: opts.http.host })) as Server;
        port = (server.address() as AddressInfo).port;
      } else {
        await app.start();
        if (opts.healthPort !== undefined) {
          const h = createServer((req, res) => {
            if (req.method === 'GET' && req.url === '/healthz') return void healthRoute(req, res);
            if (req.method === 'GET' && req.url === '/metrics') return void metricsRoute(req, res);
            res.writeHead(404).end();
          });
          health = h;
          await new Promise<void>((resolve) => h.listen(opts.healthPort, opts.http.host, resolve));
          port = (h.address() as AddressInfo).port;
        }
      }
      slack.port = port;
      return { port };
    },
    async stop() {
      await app.stop();
      const h = health;
      if (h) await new Promise<void>((r) => h.close(() => r()));
    },
  };
  return slack;
}

function responderFor(respond: (m: { response_type: 'ephemeral'; text: string; blocks?: unknown[] }) => Promise<unknown>, logger: Logger): Responder {
  return {
    ephemeral: async (text, blocks) => {
      try {
        await respond({ response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) });
      } catch (e) {
        logger.warn(
          { err: isChatOpsError(e) ? e.code : (e as Error).message, cause: String((e as { cause?: unknown }).cause ?? '') },
          'could not send an ephemeral reply',
        );
      }
    },
  };
}

/** The `channel` of a dialog's private metadata, when it is the JSON the bot wrote there. */
function metadataChannel(metadata: string): string | undefined {
  try {
    const channel = (JSON.parse(metadata || '{}') as { channel?: unknown } | null)?.channel;
    return typeof channel === 'string' ? channel : undefined;
  } catch {
    return undefined;
  }
}
