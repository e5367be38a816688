import { createPool, type Pool, type PoolConnection, type ResultSetHeader } from 'mysql2/promise';
import type { RunResult, SqlDriver, SqlExec, SqlValue } from './sql-driver.js';
import type { MysqlStoreConfig } from './store-config.js';

function execOn(conn: Pool | PoolConnection): SqlExec {
  return {
    async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      const [rows] = await conn.query(sql, params as SqlValue[]);
      return rows as T[];
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
      const [res] = await conn.query(sql, params as SqlValue[]);
      const h = res as ResultSetHeader;
      return { changes: h.affectedRows ?? 0, lastId: Number(h.insertId ?? 0) };
    },
  };
}

/**
 * mysql2 pool. Values are always bound to `?` placeholders (mysql2 escapes them; no statement is
 * built from data). Sessions run READ COMMITTED so that a compare-and-set sees the latest committed
 * row and gap locks do not turn concurrent inserts into deadlocks.
 */
export class MysqlDriver implements SqlDriver {
  readonly dialect = 'mysql' as const;
  private readonly pool: Pool;
  private readonly direct: SqlExec;

  constructor(private readonly config: MysqlStoreConfig) {
    this.pool = createPool({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectionLimit: config.connectionLimit,
      charset: 'utf8mb4_bin',
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    this.pool.on('connection', (c) => {
      // The callback API of the underlying connection: the pool's 'connection' event hands it out raw.
      (c as unknown as { query(sql: string): void }).query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    });
    this.direct = execOn(this.pool);
  }

  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExec) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      try {
        const out = await fn(execOn(conn));
        await conn.commit();
        return out;
      } catch (e) {
        await conn.rollback().catch(() => undefined);
        throw e;
      }
    } finally {
      conn.release();
    }
  }

  /** GET_LOCK is server-wide, so the name carries the database: test databases do not block each other. */
  async exclusive<T>(fn: (x: SqlExec) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    const name = `chatops_migrate:${this.config.database}`.slice(0, 64);
    try {
      let locked = false;
      try {
        const [rows] = await conn.query('SELECT GET_LOCK(?, 120) AS got', [name]);
        if ((rows as Array<{ got: number | null }>)[0]?.got !== 1) throw new Error(`could not take the migration lock ${name} within 120 s`);
        locked = true;
      } catch (e) {
        // Galera clusters may refuse user-level locks; the migrations are written to be safe to run
        // twice (IF NOT EXISTS, and a duplicate schema_migrations row counts as applied).
        if ((e as { code?: unknown }).code !== 'ER_NOT_SUPPORTED_YET') throw e;
      }
      try {
        return await fn(execOn(conn));
      } finally {
        if (locked) await conn.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
      }
    } finally {
      conn.release();
    }
  }

  isDuplicateKey(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === 'ER_DUP_ENTRY';
  }

  isRetryable(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
