/**
 * The little the SQL store needs from a database: run a statement, read rows, run a function inside
 * one transaction. Both drivers take `?` placeholders, so the store's statements are shared; only the
 * DDL of the migrations differs per dialect.
 */

/** A value bound to a `?` placeholder. Booleans are stored as 0/1 by the caller. */
export type SqlValue = string | number | null;

export interface RunResult {
  /** Rows changed (MySQL: rows matched, as mysql2 sets CLIENT_FOUND_ROWS; every CAS also bumps a version). */
  changes: number;
  /** Auto-increment id of an INSERT. */
  lastId: number;
}

export interface SqlExec {
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

export interface SqlDriver extends SqlExec {
  readonly dialect: 'sqlite' | 'mysql';
  /** Run `fn` in one transaction (SQLite: BEGIN IMMEDIATE). Commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExec) => Promise<T>): Promise<T>;
  /** Run `fn` while holding the database-wide migration lock (one migrator among all replicas). */
  exclusive<T>(fn: (x: SqlExec) => Promise<T>): Promise<T>;
  /** A unique or primary key was violated. */
  isDuplicateKey(err: unknown): boolean;
  /** A deadlock, lock wait timeout or busy database: the statement may simply be tried again. */
  isRetryable(err: unknown): boolean;
  close(): Promise<void>;
}
