import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { RunResult, SqlDriver, SqlExec, SqlValue } from './sql-driver.js';

/** One queue per database file in this process (see SqliteDriver). */
const queues = new Map<string, { tail: Promise<unknown>; users: number }>();

/**
 * better-sqlite3 is synchronous, so within one process statements never interleave, except across
 * the awaits of a transaction. Every call therefore goes through one queue per database *file*,
 * shared by all drivers of this process: otherwise a second connection's write would run between
 * another's BEGIN and COMMIT and busy-wait synchronously on a lock that only this (blocked) thread
 * can release. Across processes, SQLite's own locking (WAL + busy_timeout) applies.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly queue: { tail: Promise<unknown>; users: number };
  private readonly queueKey: string;

  constructor(path: string, busyTimeoutMs: number) {
    const fresh = path !== ':memory:' && !existsSync(path);
    // The state holds plans, the journal and the audit trail: readable by the bot's user only.
    if (fresh) mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    if (fresh) chmodSync(path, 0o600);
    this.queueKey = path === ':memory:' ? `:memory:${Math.random()}` : resolve(path);
    const q = queues.get(this.queueKey) ?? { tail: Promise.resolve(), users: 0 };
    q.users++;
    queues.set(this.queueKey, q);
    this.queue = q;
    this.db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL may lose the last transactions on power loss; the journal must not.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
  }

  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.queue.tail.then(fn, fn);
    this.queue.tail = next.catch(() => undefined);
    return next;
  }

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private readonly direct: SqlExec = {
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => this.prepare(sql).all(...params) as T[],
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<RunResult> => {
      const st = this.prepare(sql);
      if (!st.reader) {
        const r = st.run(...params);
        return { changes: r.changes, lastId: Number(r.lastInsertRowid) };
      }
      st.all(...params);
      return { changes: 0, lastId: 0 };
    },
  };

  all<T = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.serial(() => this.direct.all<T>(sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.serial(() => this.direct.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlExec) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.direct);
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  /** SQLite DDL is transactional and BEGIN IMMEDIATE excludes every other writer: that is the lock. */
  exclusive<T>(fn: (x: SqlExec) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  isDuplicateKey(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
  }

  isRetryable(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
  }

  async close(): Promise<void> {
    await this.serial(() => this.db.close());
    if (--this.queue.users === 0) queues.delete(this.queueKey);
  }
}
