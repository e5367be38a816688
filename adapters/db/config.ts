/**
 * Configuration of the SQL adapter: one DSN per OpenStack database, plus timeouts and retry bounds.
 * Databases that share a server (same host, port, user and password) share one pool, so a single
 * transaction can span them with fully qualified `schema`.`table` names.
 */
import { z } from 'zod';
import { ConfigError, type Problem } from '../../core/errors.js';

export const DB_NAMES = ['nova', 'nova_api', 'neutron', 'cinder'] as const;
/** Logical database names the runbook talks about; the real schema names come from the DSNs. */
export type DbName = (typeof DB_NAMES)[number];

/** A schema name we are willing to put into SQL as an identifier (it comes from config, never chat). */
const schemaName = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'expected a schema name of letters, digits and "_" (at most 64)');

/** One server login plus the schema to use on it. */
export const dbEndpointSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(3306),
  user: z.string().min(1),
  password: z.string().default(''),
  database: schemaName,
});
/** Parsed endpoint (see dbEndpointSchema). */
export type DbEndpoint = z.infer<typeof dbEndpointSchema>;

export const dbConfigSchema = z.object({
  nova: dbEndpointSchema,
  nova_api: dbEndpointSchema,
  neutron: dbEndpointSchema,
  cinder: dbEndpointSchema,
  /** TCP connect + handshake limit for a new connection. */
  connectTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /** Limit for every single statement (client-side; the server gets max_statement_time as well). */
  queryTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
  /** How long to wait for a free pooled connection. */
  acquireTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  /** innodb_lock_wait_timeout for our sessions, in seconds: a blocked write gives up (1205) and is retried. */
  lockWaitTimeoutSec: z.number().int().min(1).max(3_600).default(10),
  /** Whole-transaction attempts on deadlock (1213) or lock-wait timeout (1205). */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  poolSize: z.number().int().min(1).max(50).default(4),
});
/** Parsed, frozen adapter configuration. */
export type DbConfig = z.infer<typeof dbConfigSchema>;
export type DbConfigInput = z.input<typeof dbConfigSchema>;

/** Parses `mysql://user:password@host:port/schema` (the oslo.db form `mysql+pymysql://` is accepted too). */
export function parseDsn(dsn: string): z.input<typeof dbEndpointSchema> {
  let u: URL;
  try {
    u = new URL(dsn);
  } catch {
    throw new ConfigError([{ path: 'dsn', message: 'expected mysql://user:password@host:port/schema' }], 'database DSN');
  }
  if (!/^mysql(\+[a-z0-9]+)?:$/.test(u.protocol)) {
    throw new ConfigError([{ path: 'dsn', message: `expected scheme mysql:// (or mysql+pymysql://), got ${u.protocol}//` }], 'database DSN');
  }
  const out: z.input<typeof dbEndpointSchema> = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
  if (u.port) out.port = Number(u.port);
  return out;
}

/** Validates the adapter config; one ConfigError lists every bad key. DSN strings are accepted in place of endpoints. */
export function loadDbConfig(input: Record<string, unknown>): Readonly<DbConfig> {
  const problems: Problem[] = [];
  const raw: Record<string, unknown> = { ...input };
  for (const n of DB_NAMES) {
    const v = raw[n];
    if (typeof v === 'string') {
      try {
        raw[n] = parseDsn(v);
      } catch (e) {
        problems.push({ path: n, message: e instanceof ConfigError ? (e.problems[0]?.message ?? 'bad DSN') : 'bad DSN' });
      }
    }
  }
  const r = dbConfigSchema.safeParse(raw);
  if (!r.success) for (const i of r.error.issues) problems.push({ path: i.path.join('.'), message: i.message });
  if (problems.length > 0 || !r.success) throw new ConfigError(problems, 'database settings');
  return Object.freeze(r.data);
}

/** Same server login = same key; those databases share a pool and a transaction. */
export function serverKey(e: DbEndpoint): string {
  return JSON.stringify([e.host.toLowerCase(), e.port, e.user, e.password]);
}
