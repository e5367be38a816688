/**
 * The two store backends the contract suite runs against: a SQLite file in a temporary directory and
 * a throwaway MariaDB database `chatops_t<random>` (dropped afterwards). MariaDB is reached at
 * CHATOPS_TEST_MYSQL_HOST/PORT/USER/PASSWORD (default 127.0.0.1:3306 root, empty password).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import type { Clock } from '../../core/clock.js';
import { openStore } from '../../store/open-store.js';
import type { StoreConfig } from '../../store/store-config.js';
import type { Store } from '../../store/store.js';

export interface Backend {
  name: 'sqlite' | 'mariadb';
  /** Create the empty database (directory or schema). */
  setup(): Promise<void>;
  /** Open one store instance (a "replica"); several may be open at once on the same database. */
  open(clock: Clock, options?: { connectionLimit?: number }): Promise<Store>;
  config(): StoreConfig;
  /** Remove the database. */
  teardown(): Promise<void>;
}

export const mysqlServer = {
  host: process.env.CHATOPS_TEST_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.CHATOPS_TEST_MYSQL_PORT ?? 3306),
  user: process.env.CHATOPS_TEST_MYSQL_USER ?? 'root',
  password: process.env.CHATOPS_TEST_MYSQL_PASSWORD ?? '',
};

export function sqliteBackend(): Backend {
  let dir = '';
  const b: Backend = {
    name: 'sqlite',
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'chatops-store-'));
    },
    config: () => ({ kind: 'sqlite', path: join(dir, 'state.db') }),
    open: (clock) => openStore(b.config(), clock),
    async teardown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return b;
}

export function mariadbBackend(): Backend {
  // Only [a-z0-9] after the fixed prefix: the name is also checked by the store's config schema.
  const database = `chatops_t${randomBytes(6).toString('hex')}`;
  const admin = async <T>(fn: (c: Awaited<ReturnType<typeof createConnection>>) => Promise<T>): Promise<T> => {
    const c = await createConnection(mysqlServer);
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const b: Backend = {
    name: 'mariadb',
    async setup() {
      await admin((c) => c.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`));
    },
    config: () => ({ kind: 'mysql', ...mysqlServer, database }),
    open: (clock, options) => openStore({ kind: 'mysql', ...mysqlServer, database, connectionLimit: options?.connectionLimit ?? 10 }, clock),
    async teardown() {
      // Guard: only ever drop our own throwaway databases.
      if (!/^chatops_t[0-9a-f]{12}$/.test(database)) throw new Error(`refusing to drop ${database}`);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS \`${database}\``));
    },
  };
  return b;
}

export const backends = (): Backend[] => [sqliteBackend(), mariadbBackend()];

export const alice = { userId: 'UALICE1', teamId: 'T000001', userName: 'alice' };
export const bob = { userId: 'UBOB001', teamId: 'T000001', userName: 'bob' };
