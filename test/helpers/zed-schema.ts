/**
 * Loads the real OpenStack Zed schemas (test/fixtures/openstack-zed-schema/*.sql, dumped from the
 * databases the real `db sync` tools of Debian's Zed packages built; each file's header says how)
 * into throwaway databases `t<random>_<name>` on the test MariaDB, and drops them afterwards. Never
 * touches the lab's own databases. The server: CHATOPS_TEST_MYSQL (`mysql://root@127.0.0.1:3306/`
 * by default, the machine's MariaDB).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { DB_NAMES, type DbName, parseDsn } from '../../adapters/db/config.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the schema dumps live: in the repository, so a fresh clone has them. */
export const ZED_SCHEMA_DIR = join(REPO_ROOT, 'test', 'fixtures', 'openstack-zed-schema');

export function zedSchemaFile(db: DbName, dir = ZED_SCHEMA_DIR): string {
  const f = join(dir, `${db}.sql`);
  if (!existsSync(f)) throw new Error(`Zed schema fixture not found: ${f}`);
  return f;
}

/** Root login on the test server. */
export function testServer(env: NodeJS.ProcessEnv = process.env): { host: string; port: number; user: string; password: string } {
  const e = parseDsn((env['CHATOPS_TEST_MYSQL'] ?? 'mysql://root@127.0.0.1:3306/').replace(/\/?$/, '/x'));
  return { host: e.host, port: e.port ?? 3306, user: e.user, password: e.password ?? '' };
}

/** A set of throwaway databases carrying the real Zed schemas. */
export interface ZedDatabases {
  prefix: string;
  /** Real schema name per logical database, e.g. { nova: 't1a2b3c4d_nova', … }. */
  schemas: Record<DbName, string>;
  /** Databases actually created and loaded. */
  loaded: readonly DbName[];
  /** Root connection (multi-statement) for arranging rows and inspecting state. */
  admin: Connection;
  /** Adapter config pointing every database at its throwaway schema (root login unless overridden). */
  config(overrides?: Partial<Record<DbName, { user: string; password: string }>> & Record<string, unknown>): Record<string, unknown>;
  /** Opens another root connection (for a second transaction, a KILL, …). Closed by drop(). */
  connect(): Promise<Connection>;
  /** Drops the databases and closes every connection opened here. */
  drop(): Promise<void>;
}

export async function createZedDatabases(dbs: readonly DbName[] = DB_NAMES): Promise<ZedDatabases> {
  const server = testServer();
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const schemas = Object.fromEntries(DB_NAMES.map((d) => [d, `${prefix}_${d}`])) as Record<DbName, string>;
  const opened: Connection[] = [];
  const connect = async (): Promise<Connection> => {
    const c = await mysql.createConnection({ ...server, multipleStatements: true, connectTimeout: 5_000, dateStrings: true });
    opened.push(c);
    return c;
  };
  const admin = await connect();
  const created: string[] = [];
  const drop = async (): Promise<void> => {
    // Other connections first: an open transaction of theirs would hold a metadata lock and stall DROP.
    await Promise.all(opened.filter((c) => c !== admin).map((c) => c.end().catch(() => c.destroy())));
    for (const s of created) await admin.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(s)}`).catch(() => undefined);
    await admin.end().catch(() => admin.destroy());
  };
  await sweepOrphans(admin);
  try {
    for (const d of dbs) {
      await admin.query(`CREATE DATABASE ${mysql.escapeId(schemas[d])} CHARACTER SET utf8mb3 COMMENT ?`, [`${MARK} pid=${process.pid} host=${hostname()}`]);
      created.push(schemas[d]);
    }
    // One connection per database, loaded in parallel: DDL cost is mostly per-table file creation.
    await Promise.all(
      dbs.map(async (d) => {
        const c = await connect();
        await c.query(`USE ${mysql.escapeId(schemas[d])}`);
        // The dump has no DELIMITER blocks, so the server can take it as one multi-statement batch.
        await c.query(readFileSync(zedSchemaFile(d), 'utf8'));
      }),
    );
  } catch (e) {
    await drop();
    throw e;
  }
  return {
    prefix,
    schemas,
    loaded: [...dbs],
    admin,
    connect,
    drop,
    config(overrides = {}) {
      const out: Record<string, unknown> = { connectTimeoutMs: 5_000, queryTimeoutMs: 15_000, lockWaitTimeoutSec: 5 };
      for (const d of DB_NAMES) {
        const o = overrides[d];
        out[d] = { host: server.host, port: server.port, user: o?.user ?? server.user, password: o?.password ?? server.password, database: schemas[d] };
      }
      for (const [k, v] of Object.entries(overrides)) if (!(DB_NAMES as readonly string[]).includes(k)) out[k] = v;
      return out;
    },
  };
}

/** Comment on every database this helper creates, so orphans (a killed run) can be recognised. */
const MARK = 'chatops zed-schema test db';

/**
 * Drops databases this helper created in runs whose process is gone (killed before afterAll).
 * Only databases carrying our comment, created on this machine by a pid that no longer exists.
 */
async function sweepOrphans(admin: Connection): Promise<void> {
  const [rows] = await admin.query<RowDataPacket[]>(
    'SELECT schema_name AS s, schema_comment AS c FROM information_schema.schemata WHERE schema_comment LIKE ?',
    [`${MARK} %`],
  );
  for (const r of rows) {
    const m = /pid=(\d+) host=(\S+)/.exec(String(r['c']));
    if (!m || m[2] !== hostname() || alive(Number(m[1]))) continue;
    await admin.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(String(r['s']))}`).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
