/**
 * One HTTP exchange with a timeout, over undici with the cloud's TLS settings. No retries, no auth:
 * the layers above decide what a failure means.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch, type Dispatcher } from 'undici';

export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface WireResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Why an exchange produced no HTTP response. `connect` means the request never left this process. */
export class WireFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'connect' | 'io',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WireFailure';
  }
}

export interface TlsOptions {
  /** PEM CA bundle path. */
  cacert?: string;
  insecure?: boolean;
}

/** Sends requests; one keep-alive pool per cloud. */
export class Transport {
  private readonly dispatcher: Dispatcher;
  private readonly writeDispatcher: Dispatcher;

  constructor(tls: TlsOptions = {}) {
    const ca = tls.cacert ? readFileSync(tls.cacert, 'utf8') : undefined;
    this.dispatcher = new Agent({
      connect: { ...(ca ? { ca } : {}), ...(tls.insecure ? { rejectUnauthorized: false } : {}) },
      // Some deployments (uwsgi --http-socket) close after each response without saying so; keep
      // idle sockets short-lived so a stale one is rarely picked up.
      keepAliveTimeout: 4_000,
    });
    // Writes go on a fresh connection each: a pooled socket the server already closed would make a
    // write's outcome look "unknown" when it never arrived. Loopback/TLS set-up is cheap next to that.
    this.writeDispatcher = new Agent({
      connect: { ...(ca ? { ca } : {}), ...(tls.insecure ? { rejectUnauthorized: false } : {}) },
      pipelining: 0, // 0 = no keep-alive: one connection per request
    });
  }

  async send(req: WireRequest): Promise<WireResponse> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), req.timeoutMs);
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal: ac.signal,
        dispatcher: req.method === 'GET' || req.method === 'HEAD' ? this.dispatcher : this.writeDispatcher,
      });
      // The body read is under the same deadline.
      const text = await res.text();
      return { status: res.status, headers: res.headers, text };
    } catch (e) {
      if (ac.signal.aborted) throw new WireFailure('timeout', `no answer within ${req.timeoutMs} ms`, { cause: e });
      const code = errCode(e);
      if (code && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'].includes(code)) {
        throw new WireFailure('connect', `could not connect (${code})`, { cause: e });
      }
      if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
        throw new WireFailure('connect', `TLS verification failed (${code}); set cacert, or insecure only if you mean it`, { cause: e });
      }
      throw new WireFailure('io', `connection failed${code ? ` (${code})` : ''}: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.writeDispatcher.close()]);
  }
}

function errCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
