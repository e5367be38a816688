import { Agent, request } from 'node:http';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { SlackStandin } from './slack-standin.js';
import type { AckResult } from './socket-mode.js';
import {
  buildClick,
  buildCommand,
  buildEvent,
  buildViewSubmission,
  type Built,
  type ClickSpec,
  type CommandSpec,
  type EventSpec,
  type SubmitSpec,
} from './payloads.js';
import { applyViewAck } from './views.js';
import { signRequest } from './sign.js';
import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';

/** How the driver reaches the bot: signed HTTP POSTs to its `/slack/events`, or the live Socket Mode socket. */
export type Transport =
  | { kind: 'http'; url: string }
  /** `connectWaitMs`: how long to wait for a live socket first (default 10 s; socket-mode reconnects after 5 s). */
  | { kind: 'socket'; connectWaitMs?: number };

/** Ways to send a request Slack would not (HTTP only), or a retry. */
export interface HttpOptions {
  /** `bad`: a wrong signature; `missing`: no signature or timestamp headers. Default `valid`. */
  signature?: 'valid' | 'bad' | 'missing';
  /** Seconds to add to the request timestamp (−600: stale; +600: future-dated). */
  timestampOffsetSec?: number;
  /** `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`. */
  retryNum?: number;
  retryReason?: string;
  /** Override the exact `Content-Type` (e.g. with `; charset=utf-8`). */
  contentType?: string;
  /** Send these bytes instead of the encoded payload (signed as they are, unless `signature` says otherwise). */
  rawBody?: string;
}

/** One HTTP request exactly as sent, for `resend` (a replay of the same bytes and headers). */
export interface SentRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  built: Built;
}

/** The bot's acknowledgement of one delivery, plus what was sent. */
export interface DriveResult extends AckResult {
  payload: Record<string, unknown>;
  request?: SentRequest;
}

/**
 * Plays the Slack side of a conversation with the bot: slash commands, button clicks and events,
 * built as Slack builds them and sent over either transport. A command's acknowledgement body is shown
 * in the workspace as Slack would show it (ephemeral unless `response_type: in_channel`).
 */
export class SlackDriver {
  private readonly clock: Clock;
  private readonly agent = new Agent({ keepAlive: true });

  /**
   * `clock` dates the HTTP signatures; it defaults to the system clock, because Bolt checks them
   * against `Date.now()` (not the stand-in's clock, which tests may set by hand).
   */
  constructor(
    readonly standin: SlackStandin,
    readonly transport: Transport,
    opts: { clock?: Clock } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  async command(spec: CommandSpec, opts: HttpOptions = {}): Promise<DriveResult> {
    return this.send(buildCommand(this.standin, spec), opts);
  }
  async click(spec: ClickSpec, opts: HttpOptions = {}): Promise<DriveResult> {
    return this.send(buildClick(this.standin, spec), opts);
  }
  async event(spec: EventSpec, opts: HttpOptions = {}): Promise<DriveResult> {
    return this.send(buildEvent(this.standin, spec), opts);
  }

  /** Presses Submit on an open modal; the ack closes it, shows errors, or replaces it, as in Slack. */
  async submitView(spec: SubmitSpec, opts: HttpOptions = {}): Promise<DriveResult> {
    return this.send(buildViewSubmission(this.standin, spec), opts);
  }

  /** Sends a previous HTTP request again, byte for byte (same timestamp and signature): a replay. */
  async resend(req: SentRequest): Promise<DriveResult> {
    return this.finish(req.built, await this.post(req), req);
  }

  private async send(built: Built, opts: HttpOptions): Promise<DriveResult> {
    if (this.transport.kind === 'http') {
      const req = this.encode(this.transport.url, built, opts);
      return this.finish(built, await this.post(req), req);
    }
    const hub = this.standin.sockets;
    const waitMs = this.transport.connectWaitMs ?? 10_000;
    // After a dropped socket the client needs a moment to reconnect; Slack would queue, not fail.
    await this.standin.workspace.waitFor(() => hub.connections > 0, waitMs, 'a Socket Mode connection').catch(() => undefined);
    const ack = await hub.deliver(built.kind, built.payload, { retryAttempt: opts.retryNum ?? 0, retryReason: opts.retryReason ?? '' });
    return this.finish(built, ack);
  }

  private finish(built: Built, ack: AckResult, request?: SentRequest): DriveResult {
    const ok = !ack.timedOut && (ack.status === undefined || ack.status === 200);
    if (ok && built.kind === 'slash_commands' && built.target) this.standin.responses.apply(built.target, ack.ackBody, 'ack');
    if (ok && built.viewId !== undefined) applyViewAck(this.standin.workspace, built.viewId, ack.ackBody);
    return { ...ack, payload: built.payload, ...(request ? { request } : {}) };
  }

  private encode(url: string, built: Built, opts: HttpOptions): SentRequest {
    const { body, type } =
      built.kind === 'slash_commands'
        ? { body: new URLSearchParams(built.payload as Record<string, string>).toString(), type: 'application/x-www-form-urlencoded' }
        : built.kind === 'interactive'
          ? { body: new URLSearchParams({ payload: JSON.stringify(built.payload) }).toString(), type: 'application/x-www-form-urlencoded' }
          : { body: JSON.stringify(built.payload), type: 'application/json' };
    const raw = opts.rawBody ?? body;
    const ts = Math.floor(this.clock.now() / 1000) + (opts.timestampOffsetSec ?? 0);
    const headers: Record<string, string> = { 'Content-Type': opts.contentType ?? type, 'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' };
    if (opts.signature !== 'missing') {
      headers['X-Slack-Request-Timestamp'] = String(ts);
      headers['X-Slack-Signature'] = signRequest(opts.signature === 'bad' ? `${this.standin.signingSecret}-wrong` : this.standin.signingSecret, ts, raw);
    }
    if (opts.retryNum !== undefined) headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    if (opts.retryReason !== undefined) headers['X-Slack-Retry-Reason'] = opts.retryReason;
    return { url, headers, body: raw, built };
  }

  /** Closes the kept-alive HTTP connections to the bot. */
  close(): void {
    this.agent.destroy();
  }

  /**
   * POSTs and reads the answer as the ack; Slack gives up after 3 s. node:http with a keep-alive
   * agent, not fetch: under load fetch added up to a second to p99, which would be charged to the bot.
   */
  private post(sent: SentRequest): Promise<AckResult> {
    const started = performance.now();
    return new Promise<AckResult>((resolve, reject) => {
      let timedOut = false;
      const headers = { ...sent.headers, 'Content-Length': String(Buffer.byteLength(sent.body)) };
      const req = request(sent.url, { method: 'POST', agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const json = (res.headers['content-type'] ?? '').includes('json') && text !== '';
          resolve({
            status: res.statusCode ?? 0,
            ackBody: json ? (JSON.parse(text) as unknown) : text || undefined,
            ackMs: performance.now() - started,
            timedOut: false,
          });
        });
      });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
        this.standin.workspace.recordProblem('ack_timeout', `HTTP ${sent.built.kind} to ${sent.url} not answered within ${L.ackDeadlineMs} ms`);
        resolve({ ackBody: undefined, ackMs: performance.now() - started, timedOut: true });
      }, L.ackDeadlineMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        if (!timedOut) reject(err);
      });
      req.end(sent.body);
    });
  }
}
