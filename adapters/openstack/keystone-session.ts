/**
 * Keystone v3 authentication: one token at a time, cached, renewed before it expires and on demand
 * (after a 401), with a single renewal in flight however many calls are waiting for it.
 */
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import type { ApplicationCredentialAuth, CloudConfig, EndpointInterface, PasswordAuth } from './cloud-config.js';
import { OpenStackApiError } from './openstack-errors.js';
import { parseApiError, requestIdOf } from './api-error-body.js';
import { WireFailure, type Transport } from './transport.js';

const catalogSchema = z.array(
  z
    .object({
      type: z.string(),
      name: z.string().optional(),
      endpoints: z.array(z.object({ interface: z.string(), url: z.string(), region_id: z.string().nullish(), region: z.string().nullish() }).passthrough()),
    })
    .passthrough(),
);
const tokenBodySchema = z.object({
  token: z
    .object({
      expires_at: z.string(),
      catalog: catalogSchema.default([]),
      project: z.object({ id: z.string(), name: z.string().optional() }).passthrough().optional(),
      user: z.object({ id: z.string(), name: z.string().optional() }).passthrough().optional(),
    })
    .passthrough(),
});
export type ServiceCatalog = z.infer<typeof catalogSchema>;

/** A valid token and what came with it. */
export interface Token {
  value: string;
  expiresAt: number;
  catalog: ServiceCatalog;
  projectId?: string;
}

export interface KeystoneSessionOptions {
  clock?: Clock;
  /** Renew this long before `expires_at` (default 5 min): a drain can outlast a token. */
  renewMarginMs?: number;
  timeoutMs?: number;
}

export class KeystoneSession {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private readonly clock: Clock;
  private readonly margin: number;
  private readonly timeoutMs: number;
  /** How many tokens were issued so far (for tests and metrics). */
  issued = 0;

  constructor(
    private readonly config: CloudConfig,
    private readonly transport: Transport,
    opts: KeystoneSessionOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.margin = opts.renewMarginMs ?? 5 * 60_000;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** A token with at least the renewal margin left; issues a new one when needed. */
  async getToken(): Promise<Token> {
    const t = this.token;
    if (t && t.expiresAt - this.margin > this.clock.now()) return t;
    return this.renew(t?.value);
  }

  /**
   * Drops `rejected` (a token a service refused with 401) and returns a fresh one. When another call
   * already replaced it, that newer token is returned instead of issuing yet another.
   */
  async renew(rejected?: string): Promise<Token> {
    if (this.token && this.token.value !== rejected && this.token.expiresAt - this.margin > this.clock.now()) return this.token;
    this.pending ??= this.issue().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The base URL of a service from the catalog (first type that exists), for the configured interface and region. */
  endpoint(token: Token, types: readonly string[]): string {
    const iface: EndpointInterface = this.config.interface;
    const region = this.config.regionName;
    for (const type of types) {
      const svc = token.catalog.find((s) => s.type === type);
      if (!svc) continue;
      const ep = svc.endpoints.find((e) => e.interface === iface && (!region || e.region_id === region || e.region === region));
      if (ep) return ep.url.replace(/\/+$/, '');
    }
    const have = token.catalog.map((s) => `${s.type}(${s.endpoints.map((e) => `${e.interface}@${e.region_id ?? e.region ?? '-'}`).join(',')})`).join(' ');
    throw new OpenStackApiError(`no ${types.join('/')} endpoint for interface ${iface}${region ? ` in region ${region}` : ''}`, {
      method: 'CATALOG',
      url: this.config.auth.authUrl,
      outcome: 'not-sent',
      apiMessage: `catalog has: ${have || 'nothing'}`,
    });
  }

  private async issue(): Promise<Token> {
    const url = `${this.config.auth.authUrl}/auth/tokens`;
    const body = JSON.stringify(authBody(this.config.auth));
    let res;
    try {
      res = await this.transport.send({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        timeoutMs: this.timeoutMs,
      });
    } catch (e) {
      // Outcomes here are about the call that needed the token: without one it was never sent.
      const why = e instanceof WireFailure ? e.message : String(e);
      throw new OpenStackApiError(`Keystone authentication failed (${why})`, { method: 'POST', url, outcome: 'not-sent' }, e);
    }
    if (res.status !== 201 && res.status !== 200) {
      const api = parseApiError(res.text);
      throw new OpenStackApiError('Keystone authentication failed', {
        method: 'POST',
        url,
        status: res.status,
        outcome: 'not-sent',
        ...requestIdOf(res.headers),
        ...api,
      });
    }
    const value = res.headers.get('x-subject-token');
    const parsed = tokenBodySchema.safeParse(safeJson(res.text));
    const expiresAt = parsed.success ? Date.parse(parsed.data.token.expires_at) : NaN;
    if (!value || !parsed.success || Number.isNaN(expiresAt)) {
      throw new OpenStackApiError('Keystone answered without a usable token (X-Subject-Token, token.expires_at)', {
        method: 'POST',
        url,
        status: res.status,
        outcome: 'not-sent',
        ...requestIdOf(res.headers),
      });
    }
    this.issued++;
    const projectId = parsed.data.token.project?.id;
    this.token = { value, expiresAt, catalog: parsed.data.token.catalog, ...(projectId ? { projectId } : {}) };
    return this.token;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function named(name: string | undefined, id: string | undefined, domainName?: string, domainId?: string): Record<string, unknown> {
  if (id) return { id };
  return { name, domain: domainId ? { id: domainId } : { name: domainName } };
}

/** The POST /v3/auth/tokens body for the configured method and scope. */
export function authBody(a: PasswordAuth | ApplicationCredentialAuth): Record<string, unknown> {
  if (a.type === 'v3applicationcredential') {
    const cred = a.applicationCredentialId
      ? { id: a.applicationCredentialId, secret: a.applicationCredentialSecret }
      : { name: a.applicationCredentialName, secret: a.applicationCredentialSecret, user: named(a.username, a.userId, a.userDomainName, a.userDomainId) };
    // An application credential carries its own project scope; asking for another one is an error.
    return { auth: { identity: { methods: ['application_credential'], application_credential: cred } } };
  }
  const identity = { methods: ['password'], password: { user: { ...named(a.username, a.userId, a.userDomainName, a.userDomainId), password: a.password } } };
  let scope: Record<string, unknown> | undefined;
  if (a.projectId || a.projectName) scope = { project: named(a.projectName, a.projectId, a.projectDomainName, a.projectDomainId) };
  else if (a.domainId || a.domainName) scope = { domain: a.domainId ? { id: a.domainId } : { name: a.domainName } };
  return { auth: { identity, ...(scope ? { scope } : {}) } };
}
