/**
 * Helpers shared by the SQL store: retries of statements the database asks to retry, the one
 * compare-and-set primitive, insert-and-read-back. Every compare-and-set is a single conditional
 * UPDATE whose changed-row count says whether this caller won; the record is read back in the same
 * transaction so that what the winner sees is what it wrote.
 */
import type { Clock } from '../core/clock.js';
import type { Row } from './rows.js';
import type { SqlDriver, SqlExec, SqlValue } from './sql-driver.js';
import { StoreError } from './store-error.js';
import { inList } from './rows.js';

export type Set = ReadonlyArray<readonly [column: string, value: SqlValue]>;
export type Cond = readonly [sql: string, params: readonly SqlValue[]];

/** `col IN (…)` for one state or a list of states; no condition when undefined. */
export const stateCond = (col: string, s: string | readonly string[] | undefined): Cond[] => {
  if (s === undefined) return [];
  return [inList(col, typeof s === 'string' ? [s] : s)];
};

export abstract class SqlBase {
  readonly dialect: 'sqlite' | 'mysql';

  constructor(
    protected readonly db: SqlDriver,
    readonly clock: Clock,
  ) {
    this.dialect = db.dialect;
  }
  /** Retry a statement the database asked us to retry (deadlock, busy); wrap other failures. */
  protected async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof StoreError) throw e;
        if (this.db.isRetryable(e) && attempt < 8) continue;
        throw new StoreError(`store: ${what} failed: ${(e as Error).message}`, { cause: e, details: { what, dialect: this.dialect } });
      }
    }
  }

  /** UPDATE table SET … , version = version + 1 WHERE id = ? AND conds…; then read the row back. */
  protected cas<T>(table: string, id: string, set: Set, conds: Cond[], map: (r: Row) => T, bumpVersion = true): Promise<T | null> {
    const sets = [...set.map(([c]) => `${c} = ?`), ...(bumpVersion ? ['version = version + 1'] : [])];
    const where = ['id = ?', ...conds.map(([c]) => c)].join(' AND ');
    const params = [...set.map(([, v]) => v), id, ...conds.flatMap(([, p]) => p)];
    return this.retry(`update ${table} ${id}`, () =>
      this.db.transaction(async (tx) => {
        const r = await tx.run(`UPDATE ${table} SET ${sets.join(', ')} WHERE ${where}`, params);
        if (r.changes !== 1) return null;
        const rows = await tx.all<Row>(`SELECT * FROM ${table} WHERE id = ?`, [id]);
        return rows[0] ? map(rows[0]) : null;
      }),
    );
  }

  protected async one<T>(x: SqlExec, sql: string, params: SqlValue[], map: (r: Row) => T): Promise<T | undefined> {
    const rows = await x.all<Row>(sql, params);
    return rows[0] ? map(rows[0]) : undefined;
  }

  protected async insertAndRead<T>(what: string, table: string, cols: string[], values: SqlValue[], id: string, map: (r: Row) => T): Promise<T> {
    return this.retry(what, async () => {
      await this.db.run(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, values);
      const r = await this.one(this.db, `SELECT * FROM ${table} WHERE id = ?`, [id], map);
      if (!r) throw new StoreError(`store: ${table} ${id} vanished after insert`);
      return r;
    });
  }
}
