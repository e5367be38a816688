/**
 * The one way this adapter writes: read the exact rows under `SELECT … FOR UPDATE`, journal that
 * pre-image, run a parameterised UPDATE keyed by primary key, assert the row count. A dry-run does
 * the same reads without locks and returns the statements instead of running them. Undo restores a
 * journaled pre-image after checking the rows still hold what we wrote.
 */
import mysql from 'mysql2/promise';
import type { DbName } from './config.js';
import { DbRowCountError, DbUndoConflictError, type UndoConflict } from './db-error.js';
import type { Row, Session, SqlScalar } from './pools.js';
import type { PreImageEntry, PreImageRow, WriteJournal } from './write-journal.js';

/** A row-selecting UPDATE, described by queries.ts from fixed templates. */
export interface UpdateSpec {
  statement: string;
  database: DbName;
  table: string;
  primaryKey: readonly string[];
  /** Constant new values for the changed columns. */
  set: Readonly<Row>;
  /** Extra FROM clause after `<table> t` (joins), using aliases; may be empty. */
  from?: (s: Session) => string;
  /** WHERE clause selecting the rows (alias `t` for the table) and its parameters. */
  where: { sql: string; params: SqlScalar[] };
}

/** A statement as the plan shows it: parameterised SQL, its parameters, a display copy, and the rows it touches. */
export interface PlannedStatement {
  statement: string;
  database: DbName;
  sql: string;
  params: SqlScalar[];
  /** Operator-readable equivalent with values quoted. For display only; never executed. */
  display: string;
  /** Rows the statement will change (the expected row count to approve). */
  rows: number;
  /** The rows' current primary keys and the values that would change. */
  preImage: PreImageRow[];
}

export interface WriteContext {
  mode: 'apply' | 'dry-run';
  writeId: string;
  operationId?: string;
  journal?: WriteJournal;
  now: () => Date;
}

const q = (id: string): string => mysql.escapeId(id);

/** Reads the rows (locked unless dry-run), journals, updates, asserts. Returns what ran or would run. */
export async function guardedUpdate(s: Session, spec: UpdateSpec, expectedRows: number | undefined, ctx: WriteContext): Promise<PlannedStatement> {
  const cols = Object.keys(spec.set);
  const pick = unique([...spec.primaryKey, ...cols]);
  const selectSql =
    `SELECT ${pick.map((c) => `t.${q(c)}`).join(', ')} FROM ${s.table(spec.database, spec.table)} t ${spec.from?.(s) ?? ''} ` +
    `WHERE ${spec.where.sql} ORDER BY ${spec.primaryKey.map((c) => `t.${q(c)}`).join(', ')}${ctx.mode === 'apply' ? ' FOR UPDATE' : ''}`;
  const found = await s.rows(spec.database, `${spec.statement}.pre-image`, selectSql, spec.where.params);
  const preImage: PreImageRow[] = found.map((r) => ({ key: only(r, spec.primaryKey), before: only(r, cols), after: { ...spec.set } }));
  const { sql, params } = updateByKeys(
    s,
    spec.database,
    spec.table,
    spec.primaryKey,
    spec.set,
    preImage.map((r) => r.key),
  );
  const planned: PlannedStatement = {
    statement: spec.statement,
    database: spec.database,
    sql,
    params,
    display: display(sql, params),
    rows: preImage.length,
    preImage,
  };
  if (ctx.mode === 'dry-run') return planned;

  if (expectedRows === undefined || preImage.length !== expectedRows) {
    throw new DbRowCountError(spec.database, spec.statement, expectedRows ?? -1, preImage.length);
  }
  if (preImage.length === 0) return planned;
  await ctx.journal?.preImage(entryFor(s, spec.statement, spec.database, spec.table, spec.primaryKey, cols, preImage, planned, ctx));
  const affected = await s.write(spec.database, spec.statement, sql, params);
  if (affected !== expectedRows) throw new DbRowCountError(spec.database, spec.statement, expectedRows, affected);
  return planned;
}

/**
 * Restores journaled pre-images (newest first) on this session's transaction. Every row must
 * still hold the values the write left; otherwise nothing is restored and DbUndoConflictError
 * lists each row that changed. The undo journals its own pre-image first, like any write.
 */
export async function undoEntries(s: Session, entries: readonly PreImageEntry[], ctx: WriteContext): Promise<PlannedStatement[]> {
  const conflicts: UndoConflict[] = [];
  const plans: { entry: PreImageEntry; rows: PreImageRow[] }[] = [];
  for (const entry of [...entries].reverse()) {
    // Where the row is now: its key with any key column the write changed replaced by the written value.
    const rows: PreImageRow[] = entry.rows.map((r) => {
      const keyNow = { ...r.key };
      for (const k of entry.primaryKey) if (k in r.after) keyNow[k] = r.after[k] ?? null;
      return { key: keyNow, before: r.after, after: r.before };
    });
    const pick = unique([...entry.primaryKey, ...entry.columns]);
    const w = keysWhere(
      entry.primaryKey,
      rows.map((r) => r.key),
    );
    const sql = `SELECT ${pick.map((c) => q(c)).join(', ')} FROM ${s.table(entry.database, entry.table)} WHERE ${w.sql}${ctx.mode === 'apply' ? ' FOR UPDATE' : ''}`;
    const now = rows.length ? await s.rows(entry.database, `undo.${entry.statement}.check`, sql, w.params) : [];
    for (const r of rows) {
      const hit = now.find((n) => entry.primaryKey.every((k) => same(n[k], r.key[k])));
      const holds = hit !== undefined && entry.columns.every((c) => same(hit[c], r.before[c]));
      if (!holds)
        conflicts.push({ table: `${entry.database}.${entry.table}`, key: r.key, expected: r.before, ...(hit ? { found: only(hit, entry.columns) } : {}) });
    }
    plans.push({ entry, rows });
  }
  if (conflicts.length > 0) throw new DbUndoConflictError(`undo.${entries[0]?.statement ?? '?'}`, conflicts);

  const out: PlannedStatement[] = [];
  for (const { entry, rows } of plans) {
    // Rows may have had different old values: one UPDATE per distinct set of old values.
    const groups = new Map<string, PreImageRow[]>();
    for (const r of rows) {
      const g = groups.get(JSON.stringify(r.after)) ?? [];
      g.push(r);
      groups.set(JSON.stringify(r.after), g);
    }
    for (const g of groups.values()) {
      const restore = g[0]?.after ?? {};
      const { sql, params } = updateByKeys(
        s,
        entry.database,
        entry.table,
        entry.primaryKey,
        restore,
        g.map((r) => r.key),
      );
      const planned: PlannedStatement = {
        statement: `undo.${entry.statement}`,
        database: entry.database,
        sql,
        params,
        display: display(sql, params),
        rows: g.length,
        preImage: g,
      };
      out.push(planned);
      if (ctx.mode === 'dry-run') continue;
      await ctx.journal?.preImage(entryFor(s, planned.statement, entry.database, entry.table, entry.primaryKey, entry.columns, g, planned, ctx));
      const affected = await s.write(entry.database, planned.statement, sql, params);
      if (affected !== g.length) throw new DbRowCountError(entry.database, planned.statement, g.length, affected);
    }
  }
  return out;
}

/** UPDATE … SET cols WHERE (pk = …) OR (pk = …): keyed by primary key, so sql_safe_updates accepts it. */
function updateByKeys(s: Session, db: DbName, table: string, pk: readonly string[], set: Readonly<Row>, keys: Row[]): { sql: string; params: SqlScalar[] } {
  const cols = Object.keys(set);
  const w = keysWhere(pk, keys);
  return {
    sql: `UPDATE ${s.table(db, table)} SET ${cols.map((c) => `${q(c)} = ?`).join(', ')} WHERE ${keys.length ? w.sql : 'FALSE'}`,
    params: [...cols.map((c) => set[c] ?? null), ...w.params],
  };
}

function keysWhere(pk: readonly string[], keys: Row[]): { sql: string; params: SqlScalar[] } {
  if (keys.length === 0) return { sql: 'FALSE', params: [] };
  return {
    sql: keys.map(() => `(${pk.map((k) => `${q(k)} = ?`).join(' AND ')})`).join(' OR '),
    params: keys.flatMap((k) => pk.map((c) => k[c] ?? null)),
  };
}

function entryFor(
  s: Session,
  statement: string,
  db: DbName,
  table: string,
  pk: readonly string[],
  cols: string[],
  rows: PreImageRow[],
  p: PlannedStatement,
  ctx: WriteContext,
): PreImageEntry {
  return {
    writeId: ctx.writeId,
    ...(ctx.operationId ? { operationId: ctx.operationId } : {}),
    statement,
    database: db,
    schema: s.schemaOf(db),
    table,
    primaryKey: [...pk],
    columns: [...cols],
    rows,
    expectedRows: rows.length,
    sql: p.sql,
    params: p.params,
    display: p.display,
    takenAt: ctx.now().toISOString(),
  };
}

/** Values quoted for a human to read; never sent to the server. */
export function display(sql: string, params: SqlScalar[]): string {
  return mysql.format(sql, params);
}

function only(r: Row, cols: readonly string[]): Row {
  const o: Row = {};
  for (const c of cols) o[c] = r[c] ?? null;
  return o;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Byte-exact comparison (the server's collation would call 'C02' and 'c02' equal; we do not). */
function same(a: SqlScalar | undefined, b: SqlScalar | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === null || b === null) return a === b;
  return String(a) === String(b);
}
