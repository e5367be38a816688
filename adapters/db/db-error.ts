import { ChatOpsError } from '../../core/errors.js';
import type { DbName } from './config.js';

/** What the server said, when it said anything: MySQL/MariaDB errno and SQLSTATE, or a client-side code. */
export interface DbErrorInfo {
  /** Logical database the statement ran against (nova, nova_api, neutron, cinder). */
  database: DbName | DbName[];
  /** Name of the runbook statement, e.g. `evacuate.nova.instances.update`. Never free SQL. */
  statement: string;
  errno?: number;
  sqlState?: string;
  /** Client-side code such as ECONNREFUSED or PROTOCOL_CONNECTION_LOST. */
  clientCode?: string;
  /** How many times the whole transaction was tried. */
  attempts?: number;
  /** True when the outcome is unknown (the link died during COMMIT): read the state back. */
  inDoubt?: boolean;
}

/** A statement failed (DB_FAILED): server error, lost connection, timeout. The transaction was rolled back. */
export class DbError extends ChatOpsError {
  readonly info: DbErrorInfo;
  constructor(message: string, info: DbErrorInfo, cause?: unknown) {
    super('DB_FAILED', message, { cause, details: { ...info } });
    this.info = info;
  }
}

/** A write would have touched a different number of rows than the plan expected; it was rolled back. */
export class DbRowCountError extends ChatOpsError {
  constructor(
    readonly database: DbName,
    readonly statement: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      'DB_ROWCOUNT_MISMATCH',
      `${statement} on ${database}: expected ${expected} row(s), found ${actual}; rolled back, nothing written (re-plan to see the current rows)`,
      { details: { database, statement, expected, actual } },
    );
  }
}

/** One row an undo refused to restore, and why. */
export interface UndoConflict {
  table: string;
  key: Record<string, unknown>;
  /** What the row holds now (undefined when the row is gone). */
  found?: Record<string, unknown>;
  /** What we wrote and expected to find. */
  expected: Record<string, unknown>;
}

/**
 * An undo found rows that no longer hold the values we wrote (someone changed them since), so it
 * refused to overwrite them and restored nothing.
 */
export class DbUndoConflictError extends ChatOpsError {
  constructor(
    readonly statement: string,
    readonly conflicts: UndoConflict[],
  ) {
    super(
      'DB_UNDO_CONFLICT',
      `undo refused: ${conflicts.length} row(s) no longer hold the values the write left (changed since by someone else); nothing restored. First: ${describe(conflicts[0])}`,
      { details: { statement, conflicts } },
    );
  }
}

function describe(c: UndoConflict | undefined): string {
  if (!c) return '-';
  return `${c.table} ${JSON.stringify(c.key)} holds ${c.found ? JSON.stringify(c.found) : '(row gone)'}, expected ${JSON.stringify(c.expected)}`;
}

/** Errors from mysql2 carry these fields; we read them without trusting their presence. */
interface Mysql2ErrorShape {
  errno?: unknown;
  sqlState?: unknown;
  code?: unknown;
  message?: unknown;
  fatal?: unknown;
}

export function errnoOf(e: unknown): number | undefined {
  const x = e as Mysql2ErrorShape | null;
  return x && typeof x.errno === 'number' ? x.errno : undefined;
}

/** Wraps a driver error into a DbError naming the database and the statement. */
export function toDbError(e: unknown, database: DbName | DbName[], statement: string, extra: Partial<DbErrorInfo> = {}): DbError | ChatOpsError {
  if (e instanceof ChatOpsError) return e;
  const x = (e ?? {}) as Mysql2ErrorShape;
  const info: DbErrorInfo = { database, statement, ...extra };
  if (typeof x.errno === 'number') info.errno = x.errno;
  if (typeof x.sqlState === 'string') info.sqlState = x.sqlState;
  if (typeof x.code === 'string') info.clientCode = x.code;
  const msg = typeof x.message === 'string' ? x.message : String(e);
  const where = Array.isArray(database) ? database.join('+') : database;
  const codes = [info.errno !== undefined ? `errno ${info.errno}` : '', info.sqlState ? `SQLSTATE ${info.sqlState}` : '', info.clientCode ?? '']
    .filter(Boolean)
    .join(', ');
  return new DbError(`${statement} on ${where} failed (${codes}): ${msg}`, info, e);
}

/** The grants preflight found privileges missing; nothing was written. `missing` lists each one. */
export class DbPreflightError extends DbError {
  constructor(
    readonly missing: readonly { database: DbName; table: string; privilege: string; columns: string[]; reason: string }[],
    summary: string,
  ) {
    super(`the database login lacks privileges the runbook needs, so nothing was written: ${summary}`, {
      database: [...new Set(missing.map((m) => m.database))],
      statement: 'preflight',
    });
  }
}
