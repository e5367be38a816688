/**
 * Grants preflight: before the first write, try each needed privilege on a statement that touches
 * no row (inside a transaction that is rolled back), so roles, wildcard and column grants are all
 * judged by the server itself. Reports exactly what is missing, plus SHOW GRANTS for the operator.
 */
import mysql from 'mysql2/promise';
import type { DbName } from './config.js';
import { DbError } from './db-error.js';
import type { DbPools, Session } from './pools.js';
import type { NeededPrivilege } from './queries.js';

/** One privilege the configured login lacks, with the server's own words. */
export interface MissingPrivilege extends NeededPrivilege {
  schema: string;
  errno: number | undefined;
  reason: string;
}

export interface PreflightReport {
  ok: boolean;
  missing: MissingPrivilege[];
  /** SHOW GRANTS per server login (user@host as the server sees it). */
  grants: { databases: DbName[]; user: string; lines: string[] }[];
}

/** Errors that mean "you may not" or "not there", as opposed to a broken connection. */
const DENIED = new Set([1142, 1143, 1044, 1045, 1049, 1146, 1054]);

export async function runPreflight(pools: DbPools, needed: readonly NeededPrivilege[]): Promise<PreflightReport> {
  const dbs = [...new Set(needed.map((n) => n.database))];
  const report: PreflightReport = { ok: true, missing: [], grants: [] };
  for (const group of pools.serverGroups(dbs)) {
    await pools.withSession(group, 'preflight', async (s) => {
      const who = await s.rows(group, 'preflight.current-user', 'SELECT CURRENT_USER() AS u', []);
      const grants = await s.rows(group, 'preflight.show-grants', 'SHOW GRANTS', []).catch(() => []);
      report.grants.push({ databases: group, user: String(who[0]?.['u'] ?? '?'), lines: grants.map((g) => redact(String(Object.values(g)[0]))) });
      await s.write(group, 'preflight.begin', 'START TRANSACTION', []);
      try {
        for (const n of needed.filter((x) => group.includes(x.database))) {
          const miss = await tryPrivilege(s, n);
          if (miss) report.missing.push(miss);
        }
      } finally {
        await s.write(group, 'preflight.rollback', 'ROLLBACK', []);
      }
    });
  }
  report.ok = report.missing.length === 0;
  return report;
}

async function tryPrivilege(s: Session, n: NeededPrivilege): Promise<MissingPrivilege | undefined> {
  const t = s.table(n.database, n.table);
  const cols = n.columns.map((c) => mysql.escapeId(c));
  // Touch no row: WHERE FALSE, plus LIMIT 0 so sql_safe_updates has nothing to object to.
  const sql =
    n.privilege === 'SELECT'
      ? `SELECT ${cols.join(', ')} FROM ${t} WHERE FALSE`
      : `UPDATE ${t} SET ${cols.map((c) => `${c} = ${c}`).join(', ')} WHERE FALSE LIMIT 0`;
  try {
    await s.rows(n.database, `preflight.${n.privilege.toLowerCase()}.${n.table}`, sql, []);
    return undefined;
  } catch (e) {
    if (e instanceof DbError && e.info.errno !== undefined && DENIED.has(e.info.errno)) {
      const cause = e.cause as { message?: unknown } | undefined;
      return { ...n, schema: s.schemaOf(n.database), errno: e.info.errno, reason: typeof cause?.message === 'string' ? cause.message : e.message };
    }
    throw e;
  }
}

/** Operator-readable list of what is missing, e.g. "UPDATE(host) on neutron.ml2_port_bindings (schema neutron)". */
export function describeMissing(m: readonly MissingPrivilege[]): string {
  return m.map((x) => `${x.privilege}(${x.columns.join(', ')}) on ${x.database}.${x.table} (schema ${x.schema}): ${x.reason}`).join('; ');
}

/** SHOW GRANTS prints password hashes; they never leave the adapter. */
function redact(line: string): string {
  return line.replace(/\s+IDENTIFIED\s+(BY\s+PASSWORD|VIA)\s+.*$/i, ' IDENTIFIED … (redacted)');
}
