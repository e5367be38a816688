/**
 * Connection pools (one per server login), session settings on every connection, a timeout on every
 * call, and transactions retried as a whole on deadlock (1213) or lock-wait timeout (1205).
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ChatOpsError } from '../../core/errors.js';
import { type DbConfig, type DbName, DB_NAMES, serverKey } from './config.js';
import { DbError, errnoOf, toDbError } from './db-error.js';

/** Values we bind as parameters and keep in pre-images (JSON-safe). */
export type SqlScalar = string | number | null;
export type Row = Record<string, SqlScalar>;

const RETRYABLE = new Set([1213, 1205]);

/** A statement on an open transaction (or a lone read). Knows the schema names and the timeouts. */
export class Session {
  constructor(
    private readonly conn: PoolConnection,
    private readonly cfg: DbConfig,
    /** Databases this session may touch (all on one server). */
    readonly databases: readonly DbName[],
    /** MariaDB connection id (what `KILL` takes); shown in errors and useful for tests. */
    readonly connectionId: number,
  ) {}

  /** `schema`.`table` for a logical database; identifiers come from validated config, never chat. */
  table(db: DbName, table: string): string {
    if (!this.databases.includes(db)) throw new ChatOpsError('INTERNAL', `session on ${this.databases.join('+')} cannot reach ${db}`);
    return `${mysql.escapeId(this.cfg[db].database)}.${mysql.escapeId(table)}`;
  }

  /** The real schema name behind a logical database. */
  schemaOf(db: DbName): string {
    return this.cfg[db].database;
  }

  async rows<T extends Row = Row>(db: DbName | DbName[], statement: string, sql: string, params: SqlScalar[]): Promise<T[]> {
    const r = await this.run(db, statement, sql, params);
    return r as unknown as T[];
  }

  async write(db: DbName | DbName[], statement: string, sql: string, params: SqlScalar[]): Promise<number> {
    const r = (await this.run(db, statement, sql, params)) as unknown as ResultSetHeader;
    return r.affectedRows;
  }

  private async run(db: DbName | DbName[], statement: string, sql: string, params: SqlScalar[]): Promise<unknown> {
    try {
      const [r] = await this.conn.query<RowDataPacket[] | ResultSetHeader>({ sql, values: params, timeout: this.cfg.queryTimeoutMs });
      return r;
    } catch (e) {
      throw toDbError(e, db, statement);
    }
  }
}

/** The pools of one adapter instance. */
export class DbPools {
  private readonly pools = new Map<string, Pool>();

  constructor(readonly cfg: DbConfig) {
    for (const n of DB_NAMES) {
      const e = cfg[n];
      const key = serverKey(e);
      if (this.pools.has(key)) continue;
      this.pools.set(
        key,
        mysql.createPool({
          host: e.host,
          port: e.port,
          user: e.user,
          password: e.password,
          connectTimeout: cfg.connectTimeoutMs,
          connectionLimit: cfg.poolSize,
          maxIdle: cfg.poolSize,
          idleTimeout: 60_000,
          dateStrings: true,
          supportBigNumbers: true,
          bigNumberStrings: true,
          multipleStatements: false,
          enableKeepAlive: true,
        }),
      );
    }
  }

  /** Whether these databases can share one connection and hence one transaction. */
  sameServer(dbs: readonly DbName[]): boolean {
    return new Set(dbs.map((d) => serverKey(this.cfg[d]))).size <= 1;
  }

  /** Splits databases into groups that share a server, keeping the caller's order. */
  serverGroups(dbs: readonly DbName[]): DbName[][] {
    const groups = new Map<string, DbName[]>();
    for (const d of dbs) {
      const k = serverKey(this.cfg[d]);
      const g = groups.get(k) ?? [];
      if (!g.includes(d)) g.push(d);
      groups.set(k, g);
    }
    return [...groups.values()];
  }

  /** A connection with our session settings applied; released (or destroyed when broken) after `fn`. */
  async withSession<T>(dbs: readonly DbName[], statement: string, fn: (s: Session) => Promise<T>): Promise<T> {
    const first = dbs[0];
    if (!first || !this.sameServer(dbs)) throw new ChatOpsError('INTERNAL', `${statement}: ${dbs.join('+')} are not on one server`);
    const pool = this.pools.get(serverKey(this.cfg[first]));
    if (!pool) throw new ChatOpsError('INTERNAL', `no pool for ${first}`);
    const conn = await this.acquire(pool, [...dbs], statement);
    let broken = false;
    try {
      const [idRows] = await conn
        .query<RowDataPacket[]>({
          // Every session: refuse keyless UPDATE/DELETE, bound statement time server-side and lock waits.
          sql: 'SET SESSION sql_safe_updates = 1, max_statement_time = ?, innodb_lock_wait_timeout = ?',
          values: [this.cfg.queryTimeoutMs / 1000, this.cfg.lockWaitTimeoutSec],
          timeout: this.cfg.queryTimeoutMs,
        })
        .then(() => conn.query<RowDataPacket[]>({ sql: 'SELECT CONNECTION_ID() AS id', timeout: this.cfg.queryTimeoutMs }));
      const id = Number(idRows[0]?.['id']);
      return await fn(new Session(conn, this.cfg, dbs, id));
    } catch (e) {
      broken = isBroken(e);
      // Driver errors get the database and statement; anything else (a journal's, a caller's) passes through.
      throw isDriverError(e) ? toDbError(e, [...dbs], `${statement}.session`) : e;
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  /**
   * Runs `fn` in one transaction on one connection; commits when it returns, rolls back when it
   * throws. Deadlock and lock-wait timeout rerun the whole transaction, at most `maxAttempts` times.
   * `fn` receives a fresh write id per attempt (pre-images are tagged with it).
   */
  async transaction<T>(
    dbs: readonly DbName[],
    statement: string,
    fn: (s: Session, attempt: { writeId: string; n: number }) => Promise<T>,
  ): Promise<{ value: T; attempts: number; writeId: string }> {
    for (let n = 1; ; n++) {
      const writeId = randomUUID();
      try {
        const value = await this.withSession(dbs, statement, async (s) => {
          await s.write([...dbs], `${statement}.begin`, 'START TRANSACTION', []);
          let v: T;
          try {
            v = await fn(s, { writeId, n });
          } catch (e) {
            await s.write([...dbs], `${statement}.rollback`, 'ROLLBACK', []).catch(() => undefined);
            throw e;
          }
          try {
            await s.write([...dbs], `${statement}.commit`, 'COMMIT', []);
          } catch (e) {
            // The link may have died after the server committed: the outcome is unknown.
            const info = e instanceof DbError ? { ...e.info, inDoubt: true } : { database: [...dbs], statement: `${statement}.commit`, inDoubt: true };
            throw new DbError(
              `${statement}: COMMIT did not return (${(e as Error).message}); the transaction may or may not have been committed: read the rows back before doing anything else`,
              info,
              e instanceof DbError ? e.cause : e,
            );
          }
          return v;
        });
        return { value, attempts: n, writeId };
      } catch (e) {
        const errno = e instanceof DbError ? e.info.errno : errnoOf(e);
        if (errno !== undefined && RETRYABLE.has(errno) && n < this.cfg.maxAttempts) {
          // Small jittered back-off so the two transactions don't collide again at once.
          await new Promise((r) => setTimeout(r, 20 * n + Math.floor(Math.random() * 30)));
          continue;
        }
        if (e instanceof DbError) e.info.attempts = n;
        throw e;
      }
    }
  }

  private async acquire(pool: Pool, dbs: DbName[], statement: string): Promise<PoolConnection> {
    const ms = this.cfg.acquireTimeoutMs;
    const pending = pool.getConnection();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DbError(`${statement}: no database connection within ${ms} ms`, { database: dbs, statement, clientCode: 'ACQUIRE_TIMEOUT' })),
        ms,
      );
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (e) {
      pending.then((c) => c.release()).catch(() => undefined);
      throw toDbError(e, dbs, `${statement}.connect`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.end().catch(() => undefined)));
  }
}

/** After these the connection's protocol state is unknown: destroy it rather than return it to the pool. */
function isBroken(e: unknown): boolean {
  const x = (e instanceof ChatOpsError ? e.cause : e) as { fatal?: unknown; code?: unknown } | undefined;
  if (!x) return false;
  return x.fatal === true || x.code === 'PROTOCOL_SEQUENCE_TIMEOUT' || x.code === 'PROTOCOL_CONNECTION_LOST';
}

function isDriverError(e: unknown): boolean {
  if (e instanceof ChatOpsError || !(e instanceof Error)) return false;
  const x = e as { errno?: unknown; code?: unknown };
  return typeof x.errno === 'number' || typeof x.code === 'string';
}
