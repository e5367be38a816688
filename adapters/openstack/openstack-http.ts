/**
 * Authenticated calls to the OpenStack services: catalog look-up, microversion headers, a timeout
 * on every call, retries for reads only, one token renewal on 401, and errors that say what
 * happened (OpenStackApiError with method, URL, status, request id, API message and outcome).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { parseApiError, requestIdOf } from './api-error-body.js';
import type { KeystoneSession, Token } from './keystone-session.js';
import { OpenStackApiError } from './openstack-errors.js';
import { WireFailure, type Transport, type WireResponse } from './transport.js';
import type { RequestBudget } from './request-budget.js';

export type Service = 'compute' | 'network' | 'volume' | 'placement' | 'image';

/**
 * Microversions, pinned so behaviour never depends on a client or server default:
 * - compute 2.79: what the lab notes and the runbook use. It covers everything the runbooks call:
 *   2.11 force-down, 2.24 abort live migration, 2.25 block_migration "auto", 2.30 live-migrate to a
 *   named host, 2.53 service UUIDs and PUT /os-services/{id}, 2.56 cold migrate to a host, 2.59
 *   paged migration lists with uuids, 2.79 delete_on_termination in volume attachments. Zed goes to
 *   2.93; nothing above 2.79 is needed, and pinning lower keeps older clouds (Train = 2.79) working.
 * - volume 3.27: the first with the attachments API (Cinder ≥ Ocata).
 * - placement 1.28: consumer generations; GET /allocations and /resource_providers/{id}/usages.
 */
export const MICROVERSIONS = { compute: '2.79', volume: '3.27', placement: '1.28' } as const;
/** Instance action events carry `details` (the failure's message, for everyone) from 2.84 (Ussuri). */
export const EVENT_DETAILS_MICROVERSION = '2.84';

const CATALOG_TYPES: Record<Service, readonly string[]> = {
  compute: ['compute'],
  network: ['network'],
  volume: ['block-storage', 'volumev3', 'volume'],
  placement: ['placement'],
  image: ['image'],
};

function versionHeaders(service: Service, override?: string): Record<string, string> {
  switch (service) {
    case 'compute': {
      const v = override ?? MICROVERSIONS.compute;
      return { 'openstack-api-version': `compute ${v}`, 'x-openstack-nova-api-version': v };
    }
    case 'volume':
      return { 'openstack-api-version': `volume ${MICROVERSIONS.volume}` };
    case 'placement':
      return { 'openstack-api-version': `placement ${MICROVERSIONS.placement}` };
    default:
      return {};
  }
}

export interface CallOptions<T> {
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  body?: unknown;
  /** zod schema of the success body; the parsed value is returned. */
  schema?: z.ZodType<T>;
  /** Return undefined instead of throwing on 404 (for "get or nothing" look-ups). */
  allow404?: boolean;
  timeoutMs?: number;
  /** This call's microversion instead of the pinned one (a field only a later version has). */
  microversion?: string;
}

/** One finished call, for metrics and benchmarks. */
export interface CallRecord {
  method: string;
  url: string;
  status?: number;
  ms: number;
  attempt: number;
}

export interface OpenStackHttpOptions {
  timeoutMs?: number;
  /** Attempts for a read (GET), including the first. */
  readAttempts?: number;
  backoffMs?: number;
  onCall?: (r: CallRecord) => void;
  /** The cloud's request budget: every attempt waits for its slot (see request-budget.ts). */
  budget?: RequestBudget;
}

export class OpenStackHttp {
  private readonly timeoutMs: number;
  private readonly readAttempts: number;
  private readonly backoffMs: number;

  constructor(
    readonly session: KeystoneSession,
    private readonly transport: Transport,
    private readonly opts: OpenStackHttpOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.readAttempts = opts.readAttempts ?? 4;
    this.backoffMs = opts.backoffMs ?? 300;
  }

  get<T>(service: Service, path: string, o: CallOptions<T> = {}): Promise<T> {
    return this.call('GET', service, path, o) as Promise<T>;
  }
  post<T>(service: Service, path: string, o: CallOptions<T> = {}): Promise<T> {
    return this.call('POST', service, path, o) as Promise<T>;
  }
  put<T>(service: Service, path: string, o: CallOptions<T> = {}): Promise<T> {
    return this.call('PUT', service, path, o) as Promise<T>;
  }
  delete(service: Service, path: string, o: CallOptions<unknown> = {}): Promise<unknown> {
    return this.call('DELETE', service, path, o);
  }

  /** Base URL of a service (network gets its /v2.0; volume its project). */
  baseUrl(service: Service, token: Token): string {
    let base = this.session.endpoint(token, CATALOG_TYPES[service]);
    if (service === 'network' && !/\/v2\.0$/.test(base)) base += '/v2.0';
    if (service === 'image' && !/\/v2$/.test(base)) base += '/v2';
    if (service === 'volume' && /\/v3$/.test(base) && token.projectId) base += `/${token.projectId}`;
    return base;
  }

  async call<T>(method: string, service: Service, path: string, o: CallOptions<T> = {}): Promise<T | undefined> {
    const isRead = method === 'GET';
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    let token = await this.session.getToken();
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      const url = this.baseUrl(service, token) + path + queryString(o.query);
      await this.opts.budget?.acquire(service);
      const started = performance.now();
      let res: WireResponse;
      try {
        res = await this.transport.send({
          method,
          url,
          timeoutMs,
          headers: {
            'x-auth-token': token.value,
            accept: 'application/json',
            ...versionHeaders(service, o.microversion),
            ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        });
      } catch (e) {
        this.opts.onCall?.({ method, url, ms: performance.now() - started, attempt });
        const kind = e instanceof WireFailure ? e.kind : 'io';
        if (isRead && attempt < this.readAttempts) {
          await sleep(this.backoff(attempt));
          continue;
        }
        // A write that was sent and got no answer may have been applied: the caller must read the
        // state back, never send it again blindly. One that could not connect never left.
        const outcome = kind === 'connect' ? 'not-sent' : isRead ? 'rejected' : 'unknown';
        throw new OpenStackApiError(`${service} API call failed (${(e as Error).message})`, { method, url, outcome, attempts: attempt }, e);
      }
      this.opts.onCall?.({ method, url, status: res.status, ms: performance.now() - started, attempt });
      if (res.status === 401 && !renewed) {
        // The token expired early or was revoked. A 401 comes from the auth middleware before the
        // API acted, so re-sending — even a write — after one renewal repeats nothing.
        renewed = true;
        token = await this.session.renew(token.value);
        attempt--;
        continue;
      }
      if (isRead && (res.status >= 500 || res.status === 429) && res.status !== 501 && attempt < this.readAttempts) {
        await sleep(Math.max(this.backoff(attempt), retryAfterMs(res.headers)));
        continue;
      }
      if (res.status === 404 && o.allow404) return undefined;
      if (res.status >= 400) {
        // A 502/504 comes from a proxy in front of the API: the API may have acted on a write.
        const outcome = !isRead && (res.status === 502 || res.status === 504) ? 'unknown' : 'rejected';
        throw new OpenStackApiError(`${service} API refused ${method} ${path.split('?')[0]}`, {
          method,
          url,
          status: res.status,
          outcome,
          attempts: attempt,
          ...requestIdOf(res.headers),
          ...parseApiError(res.text),
        });
      }
      return this.parse(res, method, url, o.schema);
    }
  }

  private parse<T>(res: WireResponse, method: string, url: string, schema?: z.ZodType<T>): T {
    if (!schema) return undefined as T;
    let body: unknown;
    try {
      body = res.text ? JSON.parse(res.text) : undefined;
    } catch {
      body = undefined;
    }
    const r = schema.safeParse(body);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new OpenStackApiError('unexpected response body', {
        method,
        url,
        status: res.status,
        outcome: method === 'GET' ? 'rejected' : 'unknown',
        ...requestIdOf(res.headers),
        apiMessage: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'does not match'}; body starts ${res.text.slice(0, 200)}`,
      });
    }
    return r.data;
  }

  private backoff(attempt: number): number {
    return Math.min(this.backoffMs * 2 ** (attempt - 1), 5_000) * (0.75 + Math.random() / 2);
  }
}

function retryAfterMs(h: Headers): number {
  const v = h.get('retry-after');
  const s = v && /^\d+$/.test(v) ? Number(v) * 1000 : 0;
  return Math.min(s, 10_000);
}

/** Query string with repeated keys for arrays (Neutron's fields=a&fields=b, id=…&id=…). */
export function queryString(q: CallOptions<unknown>['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}
