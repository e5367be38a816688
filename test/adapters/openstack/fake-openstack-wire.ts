/**
 * A small HTTP server that speaks the OpenStack wire (Keystone v3 tokens + whatever routes a test
 * adds), for unit tests of the REST layer: token issue/renewal, timeouts, retries, error shapes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { CloudConfig } from '../../../adapters/openstack/cloud-config.js';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang' | 'destroy';
export type Handler = (req: Recorded, n: number) => Reply;

export class FakeOpenStackWire {
  readonly requests: Recorded[] = [];
  private readonly routes: { method: string; re: RegExp; handler: Handler; hits: number }[] = [];
  private readonly valid = new Set<string>();
  private server: Server | undefined;
  private readonly hung: ServerResponse[] = [];
  private tokenCount = 0;
  base = '';

  /** A password cloud whose Keystone is this wire (what clouds.yaml would say for it). */
  cloudConfig(name = 'test', over: Partial<CloudConfig> = {}): CloudConfig {
    return {
      name,
      interface: 'public',
      regionName: 'RegionOne',
      insecure: false,
      sources: [],
      auth: {
        type: 'password',
        authUrl: `${this.base}/v3`,
        username: 'admin',
        password: 'pw',
        userDomainName: 'Default',
        projectName: 'admin',
        projectDomainName: 'Default',
      },
      ...over,
    };
  }
  /** expires_at of the next token (ISO). */
  expiresAt: () => string = () => new Date(Date.now() + 3600_000).toISOString();
  /** Reply for POST /v3/auth/tokens instead of a token, when set. */
  authReply: Reply | undefined;

  /** Listens on 127.0.0.1, over TLS when given a key and certificate (PEM). */
  async start(tls?: { key: string; cert: string }): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = tls ? createTlsServer(tls, handler) : createServer(handler);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  route(method: string, re: RegExp, handler: Handler): this {
    this.routes.unshift({ method, re, handler, hits: 0 });
    return this;
  }

  revokeAll(): void {
    this.valid.clear();
  }

  get tokensIssued(): number {
    return this.tokenCount;
  }

  count(method: string, re: RegExp): number {
    return this.requests.filter((r) => r.method === method && re.test(r.path)).length;
  }

  catalog(): unknown[] {
    const ep = (path: string) => [
      { interface: 'public', region_id: 'RegionOne', url: `${this.base}${path}` },
      { interface: 'internal', region_id: 'RegionOne', url: `${this.base}/internal${path}` },
      { interface: 'public', region_id: 'RegionTwo', url: `${this.base}/r2${path}` },
    ];
    return [
      { type: 'identity', endpoints: ep('/v3') },
      { type: 'compute', endpoints: ep('/compute/v2.1') },
      { type: 'network', endpoints: ep('/network') },
      { type: 'block-storage', endpoints: ep('/volume/v3/p-1') },
      { type: 'placement', endpoints: ep('/placement') },
    ];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
    this.requests.push(rec);
    let reply: Reply;
    if (rec.method === 'POST' && /\/v3\/auth\/tokens$/.test(rec.path)) {
      reply = this.authReply ?? this.issue();
    } else if (!this.valid.has(String(req.headers['x-auth-token']))) {
      reply = { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } } };
    } else {
      const r = this.routes.find((x) => x.method === rec.method && x.re.test(rec.path));
      reply = r ? r.handler(rec, ++r.hits) : { status: 404, body: { itemNotFound: { code: 404, message: `no route ${rec.method} ${rec.path}` } } };
    }
    if (reply === 'hang') {
      this.hung.push(res);
      return;
    }
    if (reply === 'destroy') {
      req.socket.destroy();
      return;
    }
    const payload = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
    res.end(payload);
  }

  private issue(): Reply {
    const token = `tok-${++this.tokenCount}`;
    this.valid.add(token);
    return {
      status: 201,
      headers: { 'x-subject-token': token, 'x-openstack-request-id': `req-auth-${this.tokenCount}` },
      body: { token: { expires_at: this.expiresAt(), project: { id: 'p-1', name: 'admin' }, catalog: this.catalog() } },
    };
  }
}
