import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';
import { Faults, type RateLimitFault, type ServerErrorFault } from './faults.js';
import { ResponseUrls, type ResponseTarget } from './response-urls.js';
import { SocketHub } from './socket-mode.js';
import { APP_METHODS, BOT_METHODS, type MethodResult } from './web-api.js';
import { receiveUpload } from './files.js';
import { Workspace } from './workspace.js';

/** Options of the stand-in; every one has a default that works for tests and local mode. */
export interface StandinOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Accepted bot token (`xoxb-…`); default `xoxb-standin-bot`. */
  botToken?: string;
  /** Accepted app-level token (`xapp-…`) for apps.connections.open; default `xapp-standin-app`. */
  appToken?: string;
  /** Secret the driver signs HTTP requests with; default `standin-signing-secret`. */
  signingSecret?: string;
  /** Legacy verification token put in payloads' `token` field. */
  verificationToken?: string;
  /** Enforce chat.postMessage 1/s per channel and chat.update Tier 3 with 429s (default off). */
  enforceRateLimits?: boolean;
  /** Socket Mode ack deadline (default Slack's 3,000 ms). */
  ackDeadlineMs?: number;
  clock?: Clock;
}

/**
 * A wire-level Slack on one local port: the Web API at `/api/<method>` (as web-api 8 sends it),
 * Socket Mode at `/link/`, and `response_url`s at `/response/<id>`. All state lives in `workspace`.
 */
export class SlackStandin {
  readonly workspace: Workspace;
  readonly faults: Faults;
  readonly sockets: SocketHub;
  readonly responses: ResponseUrls;
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly verificationToken: string;
  private readonly server: Server;
  private readonly port0: number;

  constructor(opts: StandinOptions = {}) {
    this.workspace = new Workspace(opts.clock ?? systemClock);
    this.faults = new Faults(this.workspace.clock);
    this.faults.enforce = opts.enforceRateLimits ?? false;
    this.sockets = new SocketHub(this.workspace, opts.ackDeadlineMs ?? L.ackDeadlineMs);
    this.responses = new ResponseUrls(this.workspace);
    this.botToken = opts.botToken ?? 'xoxb-standin-bot';
    this.appToken = opts.appToken ?? 'xapp-standin-app';
    this.signingSecret = opts.signingSecret ?? 'standin-signing-secret';
    this.verificationToken = opts.verificationToken ?? 'standin-verification-token';
    this.port0 = opts.port ?? 0;
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.sockets.handleUpgrade(req, socket, head));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port0, '127.0.0.1', () => resolve());
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  /** What to pass as `clientOptions.slackApiUrl` / `SLACK_API_URL`. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  set enforceRateLimits(on: boolean) {
    this.faults.enforce = on;
  }
  /** Answers 429 + Retry-After to matching calls, for `forMs` or the next `count` calls. */
  injectRateLimit(f: RateLimitFault): void {
    this.faults.injectRateLimit(f);
  }
  /** Answers HTTP 5xx (default 500) to the next `count` matching calls. */
  inject5xx(f: ServerErrorFault): void {
    this.faults.inject5xx(f);
  }
  /** Ends every injected fault and forgets rate-limit history. */
  clearFaults(): void {
    this.faults.clear();
  }
  /** Cuts every Socket Mode connection abruptly; a healthy client reconnects. */
  dropSockets(): void {
    this.sockets.dropAll();
  }
  /** Sends Slack's `disconnect` message to every socket. */
  disconnectSockets(reason?: 'refresh_requested' | 'warning' | 'too_many_websockets'): void {
    this.sockets.disconnect(reason);
  }
  /** A fresh `response_url` bound to where the command or click happened. */
  newResponseUrl(target: ResponseTarget): string {
    return this.responses.create(this.url, target);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) {
      // files.getUploadURLExternal's upload URL: the bytes, as they came (raw or multipart).
      const id = url.pathname.slice('/upload/'.length);
      const status = receiveUpload(this.workspace, id, req.headers['content-type'] ?? '', await readBytes(req));
      this.workspace.recordCall({ method: 'upload', args: { file: id }, at: this.workspace.clock.now(), status, result: { ok: status === 200 } });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'OK - uploaded' : 'upload refused');
      return;
    }
    const raw = await readBody(req);
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      return this.webApi(url.pathname.slice('/api/'.length), req, raw, res);
    }
    if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end('invalid_payload');
        return;
      }
      const answer = this.responses.post(url.pathname.slice('/response/'.length), body);
      this.workspace.recordCall({
        method: 'response_url',
        args: body as Record<string, unknown>,
        at: this.workspace.clock.now(),
        status: answer.status,
        result: { ok: answer.status === 200, body: answer.body },
      });
      res.writeHead(answer.status, { 'Content-Type': 'text/plain' }).end(answer.body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  }

  private webApi(method: string, req: IncomingMessage, raw: string, res: ServerResponse): void {
    const args = parseArgs(req.headers['content-type'] ?? '', raw);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;
    const record = (status: number, result: MethodResult): void => {
      this.workspace.recordCall({ method, args, ...(token !== undefined ? { token } : {}), at: this.workspace.clock.now(), status, result });
    };
    const send = (status: number, result: MethodResult, headers: Record<string, string> = {}): void => {
      record(status, result);
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(result));
    };
    const handler = BOT_METHODS[method] ?? APP_METHODS[method];
    if (!handler) {
      this.workspace.recordProblem('unknown_method', `Web API method ${method} is not known to the stand-in`);
      return send(200, { ok: false, error: 'unknown_method' });
    }
    if (token === undefined || token === '') return send(200, { ok: false, error: 'not_authed' });
    if (token !== this.botToken && token !== this.appToken) return send(200, { ok: false, error: 'invalid_auth' });
    if (method in APP_METHODS !== (token === this.appToken)) return send(200, { ok: false, error: 'not_allowed_token_type' });
    const refusal = this.faults.check(method, typeof args.channel === 'string' ? args.channel : undefined);
    if (refusal?.status === 429) {
      return send(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(refusal.retryAfterSec) });
    }
    if (refusal) {
      record(refusal.status, { ok: false, error: 'server_error' });
      res.writeHead(refusal.status, { 'Content-Type': 'text/plain' }).end('upstream error');
      return;
    }
    send(
      200,
      handler(
        {
          workspace: this.workspace,
          openConnection: () => this.sockets.issueUrl(`127.0.0.1:${this.port}`),
          uploadUrl: (id) => `${this.url}/upload/${id}`,
        },
        args,
      ),
    );
  }
}

function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** web-api 8 sends url-encoded forms; Slack also accepts JSON bodies. Unknown args are kept and ignored. */
function parseArgs(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return typeof parsed === 'object' && parsed !== null ? { ...(parsed as Record<string, unknown>) } : {};
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}
